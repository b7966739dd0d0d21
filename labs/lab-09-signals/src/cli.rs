//! Chapter 9: bad input to a demo gets one clear line on stderr and exit code 2 (clap's own
//! usage error is several lines long); `--help` still prints clap's help.

use clap::Parser;
use clap::error::ErrorKind;
use nix::sys::signal::Signal;

/// Parse the command line; on an error print `NAME: what was wrong` and exit with 2.
pub fn parse<T: Parser>(name: &str) -> T {
    T::try_parse().unwrap_or_else(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
        _ => {
            let text = e.to_string();
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let mut first = lines.next().unwrap_or("bad arguments").to_string();
            if first.ends_with(':') {
                first = format!("{first} {}", lines.next().unwrap_or_default());
            }
            eprintln!("{name}: {}", first.trim_start_matches("error: "));
            std::process::exit(2)
        }
    })
}

/// Print `NAME: message` on stderr and exit with code 1.
pub fn fail(name: &str, message: impl std::fmt::Display) -> ! {
    eprintln!("{name}: {message}");
    std::process::exit(1)
}

/// A signal by name, with or without `SIG` (`TERM`, `SIGTERM`, `term`), or by number.
pub fn signal(text: &str) -> Result<Signal, String> {
    let bad = || format!("not a signal: {text:?} (try TERM, SIGUSR1 or 15)");
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().map_err(|_| bad())
}
