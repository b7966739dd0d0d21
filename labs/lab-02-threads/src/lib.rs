//! Lab for chapter 2, **Threads**: several threads of control in one address space.
//!
//! - [`join`]: `spawn` and `join`, a result coming back, a panic arriving as an `Err`.
//! - [`channel`]: an `mpsc` channel, the analogue of `postMessage`.
//! - [`counter`]: the shared counter, counted with a `Mutex`, with an atomic add, with a
//!   racy load-then-store that loses updates (without undefined behaviour), and sharded
//!   (one slot per thread, padded or not); plus a step-by-step replay of a lost update.
//! - [`gate`]: holding started threads until main has looked, with no hang when a later
//!   thread cannot be started.
//! - [`ending`]: what ends the threads when the process ends (`main` returning, `exit`).
//! - [`poison`]: a panic while holding a `Mutex`, and recovering the data.
//! - [`memory`]: where a thread's data lives: its own stack, the one shared heap.
//! - [`overflow`]: running off the end of a thread's stack.
//! - [`per_thread`]: thread-locals, the per-thread signal mask, which thread gets a
//!   signal sent to the process, and the working directory all threads share.
//! - [`scoped`]: `thread::scope`, threads that borrow local data.
//! - [`thread_list`]: thread names and the thread list the kernel keeps in
//!   `/proc/self/task`.
//! - [`send_and_sync`]: why an `Rc` cannot cross to another thread, and why two threads
//!   cannot both write a plain variable (compile errors).

pub mod channel;
pub mod counter;
pub mod ending;
pub mod gate;
pub mod join;
pub mod memory;
pub mod overflow;
pub mod per_thread;
pub mod poison;
pub mod scoped;
pub mod thread_list;

/// Moving an `Rc` to another thread does not compile. The reference count inside an `Rc`
/// is a plain integer, so two threads cloning and dropping it could race; the compiler
/// knows `Rc` is not `Send` and refuses, with error E0277. This example is a doctest that
/// must fail to compile for exactly that reason:
#[doc = concat!("```compile_fail,E0277\n", include_str!("../snippets/rc_across_threads.rs"), "```")]
///
/// The same program with `Arc`, whose count is atomic, compiles and runs:
#[doc = concat!("```\n", include_str!("../snippets/arc_across_threads.rs"), "```")]
///
/// The textbook data race, two threads adding to one plain `u64`, does not compile
/// either: each thread's closure needs `&mut count`, and only one `&mut` may exist at a
/// time (error E0499).
#[doc = concat!("```compile_fail,E0499\n", include_str!("../snippets/plain_counter.rs"), "```")]
pub mod send_and_sync {}
