//! Chapter 1: the two names of a process.
//!
//! - `comm`, the kernel's name of a thread (`/proc/PID/comm`, the `COMM` column of `ps`,
//!   what `top` shows). It starts as the first 15 bytes of the executable's file name and
//!   can be changed with `prctl(PR_SET_NAME)`.
//! - `argv[0]`, the first argument, chosen by whoever called `exec` (`/proc/PID/cmdline`,
//!   the `ARGS` column of `ps`). It is ordinary memory in the process.
//!
//! Node's `process.title = "x"` changes both: libuv overwrites the argv memory in place
//! and calls `prctl`.

use std::ffi::CString;
use std::io;

use nix::sys::prctl;

/// The kernel keeps 16 bytes for a thread name, the last one for the terminating NUL.
pub const COMM_MAX_BYTES: usize = 15;

// ANCHOR: set_title
/// Rename the calling thread in the kernel (for the main thread: the process's `comm`),
/// then ask the kernel what it kept. Names longer than 15 bytes are cut short silently.
pub fn set_title(title: &str) -> io::Result<String> {
    let title = CString::new(title)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a title cannot contain NUL"))?;
    prctl::set_name(&title)?;
    let kept = prctl::get_name()?;
    // The cut is at a byte, not a character: it may split a multi-byte UTF-8 character.
    Ok(kept.to_string_lossy().into_owned())
}
// ANCHOR_END: set_title

/// What the kernel will keep of `title`: its first 15 bytes.
pub fn expected_comm(title: &str) -> String {
    let bytes = &title.as_bytes()[..title.len().min(COMM_MAX_BYTES)];
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_titles_keep_their_first_15_bytes() {
        assert_eq!(expected_comm("lab01-worker-long-title"), "lab01-worker-lo");
        assert_eq!(expected_comm("short"), "short");
    }

    #[test]
    fn a_cut_through_a_character_is_shown_as_a_replacement_character() {
        // 14 ASCII bytes, then 'é' (2 bytes): byte 15 is half of it.
        assert_eq!(expected_comm("abcdefghijklmné"), "abcdefghijklmn\u{fffd}");
    }

    #[test]
    fn a_nul_byte_is_refused_before_any_system_call() {
        let err = set_title("bad\0name").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
