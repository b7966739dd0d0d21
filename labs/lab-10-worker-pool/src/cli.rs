//! Chapter 10: bad input to a demo gets one clear line on stderr and exit code 2 (clap's own
//! usage error is several lines long); `--help` still prints clap's help.

use clap::Parser;
use clap::error::ErrorKind;

/// Parse the command line; on an error print `NAME: what was wrong` and exit with 2.
pub fn parse<T: Parser>(name: &str) -> T {
    T::try_parse().unwrap_or_else(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
        _ => {
            eprintln!("{}", one_line(name, &e));
            std::process::exit(2)
        }
    })
}

/// The one line `parse` prints for a usage error: `NAME: ` and the first line of clap's
/// message without its `error: ` prefix.
pub fn one_line(name: &str, e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let first = first.unwrap_or("bad arguments");
    format!("{name}: {}", first.trim_start_matches("error: "))
}

/// Makes a failed `println!` (stdout a closed pipe, as in `demo | head -1`, or a full disk, as
/// in `demo > /dev/full`) end the program with one line on stderr and exit code 1 instead of
/// a panic report. Every other panic still goes to the previous hook.
pub fn exit_on_stdout_error(name: &'static str) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if let Some(why) = message.strip_prefix("failed printing to stdout: ") {
            eprintln!("{name}: cannot write to stdout: {why}");
            std::process::exit(1);
        }
        previous(info);
    }));
}
