//! Chapter 12, beyond one machine: one "host", made of a network namespace, a veth cable
//! to the root namespace, and a lab-07 cluster serving inside it.
//!
//! A network namespace has its own interfaces, addresses, routes and port numbers, so a
//! process in it sees a machine of its own as far as the network goes: two hosts can both
//! listen on port 8080. A veth pair is a cable with two ends; one end goes into the
//! namespace as `eth0`, the other stays in the root namespace, where nginx runs. The
//! commands are iproute2's (`ip netns add`, `ip link add … type veth`), run as root.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Command, Stdio};

use labkit::{ChildGuard, DEFAULT_TIMEOUT, LineReader};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// The port every host's cluster listens on, inside its own namespace.
pub const PORT: u16 = 8080;

/// Run `ip ARGS…`; its stdout, or an error quoting its stderr.
pub fn ip<S: AsRef<OsStr>>(args: &[S]) -> io::Result<String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run `ip`: {e}")))?;
    if !out.status.success() {
        let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
        return Err(io::Error::other(format!(
            "`ip {}` failed: {}",
            shown.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One host: its namespace, its cable, and the cluster serving in it.
#[derive(Debug)]
pub struct Host {
    /// The namespace's name, as `ip netns list` shows it.
    pub netns: String,
    /// The root namespace's end of the veth pair (the other end is `eth0` inside).
    pub veth: String,
    /// The host's own address (inside the namespace); the root end has `.1`.
    pub addr: Ipv4Addr,
    veth_made: bool,
    server: Option<Server>,
    /// The pids of the workers its cluster started (kept after the host is killed, so
    /// that older answers can still be told apart).
    workers: Vec<u32>,
}

/// A cluster running in a host: the master (our child) and its log.
#[derive(Debug)]
struct Server {
    guard: ChildGuard,
    /// Kept open and read to the end, so the master never writes to a closed pipe.
    log: LineReader,
}

impl Host {
    // ANCHOR: create
    /// Make the host: a namespace, and a veth pair with one end inside it as `eth0`, on a
    /// subnet 10.212.N.0/24 that nothing else on this machine uses (`.1` is the root
    /// namespace's end, `.2` the host).
    pub fn create(netns: &str) -> io::Result<Host> {
        ip(&["netns", "add", netns])?;
        // From here on, dropping `host` deletes what exists so far.
        let mut host = Host {
            netns: netns.to_string(),
            veth: String::new(),
            addr: Ipv4Addr::UNSPECIFIED,
            veth_made: false,
            server: None,
            workers: Vec::new(),
        };
        // The cable's name carries the subnet, and interface names are unique: if another
        // run took N a moment ago, `ip link add` fails with "File exists" and we try the
        // next N. The kernel is our lock.
        for n in unused_subnets()? {
            let veth = format!("lab12-s{n}");
            let cable = [
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", netns,
            ];
            match ip(&cable) {
                Ok(_) => {
                    host.veth = veth;
                    host.addr = Ipv4Addr::new(10, 212, n, 2);
                    host.veth_made = true;
                    break;
                }
                Err(e) if e.to_string().contains("File exists") => continue,
                Err(e) => return Err(e),
            }
        }
        if !host.veth_made {
            return Err(io::Error::other("no free subnet left in 10.212.0.0/16"));
        }
        let (veth, n) = (host.veth.as_str(), host.addr.octets()[2]);
        // The name says which subnet, the alias which run: `ip link` shows both.
        ip(&["link", "set", veth, "alias", netns])?;
        ip(&["addr", "add", &format!("10.212.{n}.1/24"), "dev", veth])?;
        ip(&["link", "set", veth, "up"])?;
        let inside = format!("{}/24", host.addr);
        ip(&["-n", netns, "addr", "add", &inside, "dev", "eth0"])?;
        ip(&["-n", netns, "link", "set", "eth0", "up"])?;
        ip(&["-n", netns, "link", "set", "lo", "up"])?;
        Ok(host)
    }
    // ANCHOR_END: create

    // ANCHOR: serve
    /// Start a lab-07 cluster inside the namespace: `program ARGS… --addr 0.0.0.0:8080`
    /// under `ip netns exec` (which enters the namespace and then execs the program, so
    /// our child is the cluster's master). Returns once it printed its `ready` line.
    pub fn serve(&mut self, program: &OsStr, args: &[&str]) -> io::Result<()> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns])
            .arg(program)
            .args(args)
            .arg(format!("--addr=0.0.0.0:{PORT}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut guard = ChildGuard::spawn(&mut cmd)?;
        let mut log = guard.stdout_lines();
        log.wait_for("ready ", DEFAULT_TIMEOUT)?;
        // `worker 1 pid=4242 online`: the pids that will name themselves in responses.
        self.workers = log
            .history()
            .iter()
            .filter(|l| l.starts_with("worker ") && l.ends_with(" online"))
            .filter_map(|l| labkit::lines::fields(l).get("pid")?.parse().ok())
            .collect();
        self.server = Some(Server { guard, log });
        Ok(())
    }
    // ANCHOR_END: serve

    /// The address nginx (or a client in the root namespace) reaches the cluster on.
    pub fn endpoint(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.addr, PORT)
    }

    /// The pids of the cluster's workers (each response names the worker that sent it),
    /// also once the host was killed.
    pub fn workers(&self) -> &[u32] {
        &self.workers
    }

    /// The pid of the cluster's master, while it runs.
    pub fn master(&self) -> Option<u32> {
        self.server.as_ref().map(|s| s.guard.pid())
    }

    /// Kill the host's cluster at once, as a power cut would, and reap it. Returns the
    /// master's log (what it printed up to its death).
    pub fn kill(&mut self) -> Vec<String> {
        match self.server.take() {
            Some(mut server) => {
                kill_tree(server.guard);
                let _ = server.log.rest(DEFAULT_TIMEOUT);
                server.log.history().to_vec()
            }
            None => Vec::new(),
        }
    }
}

/// The values of N, in order, for which 10.212.N.0/24 appears in no address and no route
/// of the root namespace (a leftover of a killed run, or a network of the machine's own).
pub fn unused_subnets() -> io::Result<Vec<u8>> {
    let seen = ip(&["-4", "-o", "addr", "show"])? + &ip(&["-4", "route", "show", "table", "all"])?;
    let used: BTreeSet<u8> = seen
        .match_indices("10.212.")
        .filter_map(|(at, m)| {
            let rest = &seen[at + m.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect();
    Ok((1..=254).filter(|n| !used.contains(n)).collect())
}

// ANCHOR: kill_tree
/// Kill a process, its group and its children, and reap them all. The process is stopped
/// first, so it can neither reap a child nor fork a new one while we look; its children
/// are killed while it still holds them (their pids cannot be reused), then it is killed.
/// The children, re-parented to us (we are a child subreaper), are reaped last.
pub fn kill_tree(guard: ChildGuard) {
    let pid = guard.pid();
    let _ = guard.signal(Signal::SIGSTOP);
    let children = labkit::proc::children(pid).unwrap_or_default();
    for &child in &children {
        let _ = kill(Pid::from_raw(child as i32), Signal::SIGKILL);
    }
    drop(guard); // SIGKILL to the whole group, then waitpid
    for child in children {
        // ECHILD when we are not a subreaper (init took them): nothing more to do.
        let _ = waitpid(Pid::from_raw(child as i32), None);
    }
}
// ANCHOR_END: kill_tree

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
        // Deleting one end of a veth pair deletes both; deleting the namespace's name
        // frees it once no process is left inside (kill() made sure of that).
        if self.veth_made {
            let _ = ip(&["link", "del", &self.veth]);
        }
        // Anything still inside (nothing, unless a process escaped our group) would keep
        // the namespace alive after its name is gone.
        if let Ok(pids) = ip(&["netns", "pids", &self.netns]) {
            for pid in pids
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let _ = ip(&["netns", "del", &self.netns]);
    }
}
