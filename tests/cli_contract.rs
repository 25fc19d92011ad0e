//! Workspace-level tests (filled in below).
