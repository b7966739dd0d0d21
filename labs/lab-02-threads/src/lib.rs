//! Lab for chapter 2, **Threads**: several threads of control in one address space.
//!
//! - [`counter`]: the shared counter, counted three ways: with a `Mutex`, with an atomic
//!   add, and with a racy load-then-store that loses updates (without undefined
//!   behaviour), plus a step-by-step replay of one lost update.
//! - [`memory`]: where a thread's data lives: its own stack, the one shared heap.
//! - [`scoped`]: `thread::scope`, threads that borrow local data.
//! - [`tasks`]: thread names and the thread list the kernel keeps in `/proc/self/task`.
//! - [`send_and_sync`]: why an `Rc` cannot cross to another thread (a compile error).

pub mod counter;
pub mod memory;
pub mod scoped;
pub mod tasks;

/// Moving an `Rc` to another thread does not compile. The reference count inside an `Rc`
/// is a plain integer, so two threads cloning and dropping it could race; the compiler
/// knows `Rc` is not `Send` and refuses, with error E0277. This example is a doctest that
/// must fail to compile for exactly that reason:
#[doc = concat!("```compile_fail,E0277\n", include_str!("../snippets/rc_across_threads.rs"), "```")]
///
/// The same program with `Arc`, whose count is atomic, compiles and runs:
#[doc = concat!("```\n", include_str!("../snippets/arc_across_threads.rs"), "```")]
pub mod send_and_sync {}
