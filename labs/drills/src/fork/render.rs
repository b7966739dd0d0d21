//! The scenario as a student reads it: the action lists, the same program in C, the
//! question and the answer format.

use super::{Action, Scenario};

fn action(a: &Action) -> String {
    match a {
        Action::Fork(c) => format!("fork {c}"),
        Action::Print(t) => format!("print \"{t}\""),
        Action::Exit(code) => format!("exit {code}"),
        Action::Wait(c) => format!("wait {c}"),
        Action::Kill(c) => format!("kill {c}"),
        Action::Subreaper => "subreaper".to_string(),
    }
}

/// The C-like program of process `i`, indented by `depth` levels.
fn c_code(s: &Scenario, i: usize, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    let p = &s.processes[i];
    for a in &p.actions {
        match a {
            Action::Fork(c) => {
                out.push_str(&format!("{pad}pid_t {c} = fork();\n"));
                out.push_str(&format!("{pad}if ({c} == 0) {{  // {c}\n"));
                c_code(
                    s,
                    s.index(c).expect("generated names exist"),
                    depth + 1,
                    out,
                );
                out.push_str(&format!("{pad}}}\n"));
            }
            Action::Print(t) => out.push_str(&format!("{pad}say(\"{t}\");\n")),
            Action::Exit(code) => out.push_str(&format!("{pad}_exit({code});\n")),
            Action::Wait(c) => out.push_str(&format!("{pad}waitpid({c}, NULL, 0);\n")),
            Action::Kill(c) => out.push_str(&format!("{pad}kill({c}, SIGKILL);\n")),
            Action::Subreaper => out.push_str(&format!("{pad}prctl(PR_SET_CHILD_SUBREAPER, 1);\n")),
        }
    }
    if !matches!(p.actions.last(), Some(Action::Exit(_))) {
        out.push_str(&format!("{pad}stay_alive();\n"));
    }
}

pub fn render(s: &Scenario) -> String {
    let mut out = format!("fork drill, seed {}, size {}\n\n", s.seed, s.size);
    out.push_str(
        "Each process runs its own list, in order. The drill starts a; `fork x` starts x,\n\
         which runs x's list. `print` writes one line to a pipe all processes share. A list\n\
         that does not end with `exit` leaves its process alive until the drill has looked.\n\n",
    );
    for p in &s.processes {
        let list: Vec<String> = p.actions.iter().map(action).collect();
        let list = if list.is_empty() {
            "(nothing)".to_string()
        } else {
            list.join("; ")
        };
        out.push_str(&format!("  {}: {list}\n", p.name));
    }
    out.push_str(
        "\nThe same program in C. say() is one write(2) of a line to the pipe; stay_alive()\n\
         blocks until the drill has looked; the code of a child ends inside its `if`.\n\n",
    );
    out.push_str("    // a\n");
    c_code(s, 0, 1, &mut out);
    out.push_str(
        "\nQuestion: in which order are the lines printed, and what is the process tree\n\
         once every process has finished its list? `root` is the drill's own process: a\n\
         child subreaper (prctl(2)) that reaps nobody before it has looked. If several\n\
         orders are possible, give any one of them.\n\n\
         Answer format: the printed lines in order, then every process, one per line:\n\n\
         \x20   lines:\n\
         \x20   <first printed line>\n\
         \x20   <second printed line>\n\
         \x20   tree:\n\
         \x20   <name> ppid=<parent's name, or root> alive\n\
         \x20   <name> ppid=<parent's name, or root> zombie\n\
         \x20   <name> gone\n",
    );
    out
}
