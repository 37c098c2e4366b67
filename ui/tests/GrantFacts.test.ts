import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";

import GrantFacts from "../src/lib/components/GrantFacts.svelte";
import { revokedStatus, status } from "./fixtures";

describe("GrantFacts", () => {
  it("says a revoked grant has already ended, not that its end is unknown", () => {
    render(GrantFacts, { status: revokedStatus(), grantLeft: null });
    expect(screen.getByTestId("grant-ends-at")).toHaveTextContent("Already ended");
  });

  it("says a live grant with no known end has none known", () => {
    render(GrantFacts, { status: status(), grantLeft: null });
    expect(screen.getByTestId("grant-ends-at")).toHaveTextContent("No end known");
  });
});
