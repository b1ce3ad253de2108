//! Code that the deptoken Lambda functions (token-upload, expiry-sweep, notifier) share. It
//! contains JSON logging, the names and parsers of settings that several functions read, and
//! the notifier of a function that leaves publishing to the notifier function.
//!
//! The crate depends on no HTTP server crate, so expiry-sweep and notifier, which serve no
//! HTTP API, do not link one.

pub mod config;
pub mod logging;
pub mod notifier;

pub use notifier::StreamDrivenNotifier;
