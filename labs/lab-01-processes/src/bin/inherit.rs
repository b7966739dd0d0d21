//! Chapter 1 demo: a child gets a *copy* of its parent's working directory and
//! environment. Changing them changes this process and the children it starts from then
//! on, never the parent that started it: that is why a program cannot `cd` its shell.
//!
//! ```sh
//! env -i -C / GREETING=hello sh -c '"$0"; echo "shell:   cwd=$(pwd) GREETING=$GREETING"' "$PWD/target/debug/inherit"
//! ```

use std::process::Command;

use clap::Parser;

/// Change this process's cwd and GREETING, then start a child that reports its own.
#[derive(Parser)]
struct Args {
    /// The directory to change to.
    #[arg(long, default_value = "/tmp")]
    cd: String,
    /// Internal: run as the child and only report (used by the demo itself).
    #[arg(long, hide = true)]
    report: bool,
}

fn report(who: &str) -> String {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("({e})"));
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "(unset)".to_string());
    format!("{who} cwd={cwd} GREETING={greeting}")
}

// ANCHOR: main
fn main() {
    let args = Args::parse();
    if args.report {
        println!("{}", report("child:  "));
        return;
    }
    println!("{}", report("inherit:"));
    if let Err(e) = std::env::set_current_dir(&args.cd) {
        eprintln!("inherit: cannot change to {:?}: {e}", args.cd);
        std::process::exit(1);
    }
    // SAFETY: no other thread exists yet that could read the environment meanwhile.
    unsafe { std::env::set_var("GREETING", "changed") };
    println!("{}", report("inherit:"));
    // The child starts with copies of our cwd and environment, as they are now.
    let me = std::env::current_exe().expect("our own executable");
    let status = Command::new(me).arg("--report").status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        eprintln!("inherit: the child failed: {status:?}");
        std::process::exit(1);
    }
}
// ANCHOR_END: main
