//! Handlers, one file per resource. Each translates a request into one use-case call.

pub mod certificate;
pub mod fallback;
pub mod messages;
pub mod openapi;
pub mod portal;
pub mod servers;
pub mod settings;
pub mod subscribers;
pub mod sweep;
pub mod token;
