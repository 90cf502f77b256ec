//! The secrets lifecycle around `check`: generating secrets (`gen`), editing env files in place
//! (`gen --set`), writing `.env.example` (`template`), comparing environments (`diff`), masking
//! log streams (`mask`), writing a first manifest (`init`) and tracking rotations (`rotate`).

pub mod diff;
pub mod edit;
pub mod gen;
pub mod init;
pub mod masker;
pub mod template;

/// The rotation ledger (`rotate`): a module of its own, since `check`'s rotation rule reads it.
pub use crate::ledger;
