//! Chapter 3, blocking the event loop.
//!
//! One HTTP server on a tokio `current_thread` runtime (one thread runs every connection),
//! with a route that does CPU work. In `blocking` mode the work runs on the event loop and
//! every other connection waits; the other modes move it elsewhere: tokio's blocking pool,
//! chapter 10's `ThreadPool`, or a child process that replies over a pipe.
//!
//! - [`compute`]: the work (the exact sum of `0..n`) and the exercises built on it.
//! - [`http`]: a small HTTP/1.1 layer of ours: the parser and its typed errors.
//! - [`server`]: the modes, the routes and the connection loop.

pub mod compute;
pub mod http;
pub mod server;

pub use compute::{MAX_N, sum_to};
pub use http::{HttpError, MAX_HEAD, Request, parse_head};
pub use server::{Config, Event, Mode, serve};
