//! Chapter 1: the two names of a process.
//!
//! - `comm`, the kernel's name of a thread (`/proc/PID/comm`, the `COMM` column of `ps`,
//!   what `top` shows). It starts as the first 15 bytes of the executable's file name and
//!   can be changed with `prctl(PR_SET_NAME)`.
//! - `argv[0]`, the first argument, chosen by whoever called `exec` (`/proc/PID/cmdline`,
//!   the `ARGS` column of `ps`). It is ordinary memory in the process.
//!
//! Node's `process.title = "x"` changes both: libuv overwrites the argv memory in place
//! (never more bytes than the original arguments took) and calls `prctl`.

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
    // The cut is at a byte, not a character: it may split a multi-byte UTF-8 character,
    // and then the last byte alone is not valid UTF-8 (shown as U+FFFD here).
    Ok(kept.to_string_lossy().into_owned())
}
// ANCHOR_END: set_title

/// What the kernel will keep of `title`: its first 15 bytes, a split character shown
/// as U+FFFD.
pub fn expected_comm(title: &str) -> String {
    let bytes = &title.as_bytes()[..title.len().min(COMM_MAX_BYTES)];
    String::from_utf8_lossy(bytes).into_owned()
}

/// What is left of a title after the kernel's 15-byte cut, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommCut<'a> {
    /// The longest prefix of the first 15 bytes that is whole UTF-8 characters.
    pub kept: &'a str,
    /// The character the cut went through, if it went through one.
    pub split: Option<char>,
    /// How many bytes of `title` the kernel drops (a split character's bytes included).
    pub dropped_bytes: usize,
}

/// Where the kernel's 15-byte cut falls in `title`, and what remains of it as valid text:
/// the name a careful program would display instead of a half character.
pub fn cut_title(title: &str) -> CommCut<'_> {
    // EXERCISE: keep the first COMM_MAX_BYTES bytes of `title`, then step back to a
    // character boundary so that `kept` is valid text. Report the character the cut went
    // through (if any) and how many bytes of the title are not in `kept`.
    // BEGIN SOLUTION
    let mut end = title.len().min(COMM_MAX_BYTES);
    while !title.is_char_boundary(end) {
        end -= 1;
    }
    let split = if title.len() > COMM_MAX_BYTES && end < COMM_MAX_BYTES {
        title[end..].chars().next()
    } else {
        None
    };
    CommCut {
        kept: &title[..end],
        split,
        dropped_bytes: title.len() - end,
    }
    // END SOLUTION
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
        // 14 ASCII bytes, then 'í' (2 bytes): byte 15 is half of it.
        assert_eq!(expected_comm("worker-cafetería"), "worker-cafeter\u{fffd}");
    }

    #[test]
    fn a_nul_byte_is_refused_before_any_system_call() {
        let err = set_title("bad\0name").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn exercise_01_3_a_cut_through_a_character_keeps_whole_characters() {
        assert_eq!(
            cut_title("worker-cafetería"),
            CommCut {
                kept: "worker-cafeter",
                split: Some('í'),
                dropped_bytes: 3,
            }
        );
        // A 4-byte emoji that starts at byte 14: the kernel would keep two of its bytes.
        assert_eq!(
            cut_title("payment-queue🚀x"),
            CommCut {
                kept: "payment-queue",
                split: Some('🚀'),
                dropped_bytes: 5,
            }
        );
    }

    #[test]
    fn exercise_01_3_clean_cuts_and_short_titles() {
        assert_eq!(
            cut_title("lab01-worker-long-title"),
            CommCut {
                kept: "lab01-worker-lo",
                split: None,
                dropped_bytes: 8,
            }
        );
        // 'ñ' and 'ú' are two bytes each; the cut after byte 15 falls between characters.
        assert_eq!(
            cut_title("ñandú-trabajador"),
            CommCut {
                kept: "ñandú-trabaja",
                split: None,
                dropped_bytes: 3,
            }
        );
        assert_eq!(
            cut_title("short"),
            CommCut {
                kept: "short",
                split: None,
                dropped_bytes: 0,
            }
        );
        // Exactly 15 bytes, ending in a 2-byte character: nothing is cut.
        assert_eq!(cut_title("abcdefghijklmñ").split, None);
    }
}
