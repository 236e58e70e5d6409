//! # facebridge
//!
//! Get a good face photo out of a camera or a file, check it before any
//! billed call, and fit it to a face-match service's limits — in the browser,
//! in a Cloudflare Worker, or natively.
//!
//! ```no_run
//! # fn main() -> Result<(), facebridge::Error> {
//! use facebridge::prepare::{prepare, PrepareOptions};
//! use facebridge::quality::Role;
//!
//! let selfie = std::fs::read("selfie.jpg").unwrap();
//! let out = prepare(&selfie, &PrepareOptions { role: Role::Selfie, max_bytes: 2_000_000, ..Default::default() })?;
//! assert!(out.bytes.len() <= 2_000_000);
//! println!("{}", serde_json::to_string_pretty(&out.report).unwrap());
//! # Ok(()) }
//! ```
//!
//! The modules follow the data flow: [`image`] (decode, orient, resize,
//! encode) → [`detect`] (BlazeFace) → [`quality`] (report and gate) →
//! [`prepare`] (the pipeline). Only `wasm` (compiled for wasm32) knows about
//! JavaScript.

pub mod auth;
pub mod card;
pub mod detect;
pub mod edge;
pub mod error;
pub mod image;
pub mod prepare;
pub mod providers;
pub mod quality;
#[cfg(feature = "native")]
pub mod sim;
#[cfg(feature = "native")]
pub mod transport;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, Result};
