//! Helpers shared by lab-04's test files (each test file is its own crate and reaches this
//! module with `mod common;`).
//!
//! Some tests make a shell (or Node) leave a background `sleep` behind on purpose, to show
//! who cleans it up. Each such `sleep` gets a unique, odd duration as a marker
//! (`sleep 27.1828`), so a test can find exactly its own leftovers in `/proc`, and a
//! [`Sweep`] kills them when the test ends, also when it fails.

/// Pids of processes whose command line is exactly `sleep MARKER`.
pub fn sleepers(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| labkit::proc::cmdline(*pid).is_ok_and(|argv| argv == ["sleep", marker]))
        .collect()
}

/// Kills every `sleep MARKER` when dropped, also when the test fails.
pub struct Sweep(pub &'static str);

impl Drop for Sweep {
    fn drop(&mut self) {
        for pid in sleepers(self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
