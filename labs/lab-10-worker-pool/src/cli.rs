//! Chapter 10: bad input to a demo gets one clear line on stderr and exit code 2 (clap's own
//! usage error is several lines long); `--help` still prints clap's help.

use clap::Parser;
use clap::error::ErrorKind;

/// Parse the command line; on an error print `NAME: what was wrong` and exit with 2.
pub fn parse<T: Parser>(name: &str) -> T {
    T::try_parse().unwrap_or_else(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
        _ => {
            let text = e.to_string();
            let first = text.lines().map(str::trim).find(|l| !l.is_empty());
            let first = first.unwrap_or("bad arguments");
            eprintln!("{name}: {}", first.trim_start_matches("error: "));
            std::process::exit(2)
        }
    })
}
