//! Server integration tests: one binary, a real server on port 0 with a fresh SQLite file
//! per test, and a real webhook receiver. Deliveries are drained with `try_next`, never slept on.

#![allow(clippy::unwrap_used)]

mod address;
mod admin;
mod answers;
mod assets;
mod audience;
mod campaign;
mod console;
mod console_sends;
mod crash;
mod delivery;
mod delivery_health;
mod demo;
mod egress;
mod endpoints;
mod entries;
mod errors;
mod fraud;
mod helpers;
mod inbound;
mod jobs;
mod limits;
mod ops;
mod processes;
mod rules;
mod startup;
mod uploads;
