//! What the sandbox remembers and signs with: registered clients, authorization codes, grants
//! and their tokens, the scope rules, the id_token key. The shared state holds them and the
//! OAuth handlers use them, so they sit below both.

pub(crate) mod clients;
pub(crate) mod codes;
pub(crate) mod grants;
pub(crate) mod id_token;
pub(crate) mod scopes;
