//! Integration tests of the `greenlight` binary, compiled into one test binary.

mod canary;
mod cli;
mod dns;
mod examples;
mod golive;
mod hooks;
mod leaks;
mod lifecycle;
mod probe;
mod providers;
mod scan;
mod servers;
mod support;
mod verify;
mod verify_cases;
mod workflow;
