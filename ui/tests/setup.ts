import "@testing-library/jest-dom/vitest";
import { beforeEach } from "vitest";

// Drafts live in local storage: every test starts with none.
beforeEach(() => localStorage.clear());
