//! Use cases: orchestration over the ports. Filled in by the upload work.
