//! The deptoken domain: reading Apple DEP server token files, the MDM key pairs they are
//! encrypted for, the DEP API client, the token status policy, the user-facing messages, the
//! ports the use cases need and the use cases themselves.
//!
//! This crate depends on no AWS SDK and no HTTP server framework: adapters and entry points
//! live in other crates and call in here.

pub mod clock;
pub mod dep;
pub mod domain;
pub mod error;
pub mod keys;
pub mod messages;
pub mod model;
pub mod policy;
pub mod ports;
pub mod secret;
pub mod subscriber;
pub mod token;
pub mod usecases;

pub use error::{AppError, ErrorCode, ErrorDetail};
pub use messages::Lang;
