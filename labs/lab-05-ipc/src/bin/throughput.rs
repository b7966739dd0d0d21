//! Chapter 5 experiment: how fast the channel is, beside Node's `process.send`.
//!
//! `cargo run --release -p lab-05 --bin throughput` (add `--json` for one JSON document)
//!
//! Method: every message test starts a child process (this program again, `--child MODE`)
//! with a channel at fd 3, waits for its `{"ready":…}` line, then sends `--messages`
//! messages `{"seq":N,"body":"hello, channel"}`; the child decodes each into a struct,
//! counts, and answers `{"done":N}` after the last: the time runs from the first send to
//! that answer. Three ways to send: one `write` per JSON line, JSON lines in batches of
//! `--batch` per `write`, and length-prefixed frames with a JSON body, one `write` each.
//! Round trip: `--roundtrips` messages sent one at a time, each echoed back before the
//! next. Bulk: `--bulk-mib` MiB from one thread to another in 64 KiB writes over a pipe
//! and over a socketpair (raw copy loops), and in 1 MiB frames over a `FrameChannel`.
//! Node: `node/throughput.js` does the message test and the round trips with `fork()`,
//! `process.send` and `'message'`, timed end to end like the Rust tests; a second Node row
//! times only the parent's loop of `child.send` calls (which queue writes). Decode only: the same messages decoded from a buffer
//! in one thread, no I/O (the ceiling for any message test). All methods take turns within each run (A/B
//! interleaved); the table shows the median, fastest and slowest run.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Instant;

use clap::Parser;
use lab_05::framing::Decoder;
use lab_05::{
    Channel, ChannelError, DEFAULT_LIMIT, FrameChannel, LineDecoder, decode_line,
    spawn_with_channel,
};
use labkit::experiment::{Machine, Summary, report};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Measure the channel: messages/s, round trips, bulk MB/s (and Node's process.send).
#[derive(Parser)]
struct Args {
    /// Messages per message test.
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Messages per write in the batched test.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Round trips per run.
    #[arg(long, default_value_t = 10_000)]
    roundtrips: u64,
    /// MiB per bulk test.
    #[arg(long, default_value_t = 256)]
    bulk_mib: usize,
    /// Runs (the table shows the median).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Run as the child: lines, frames or echo (the parent passes this).
    #[arg(long, hide = true)]
    child: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Msg {
    seq: u64,
    body: String,
}

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

/// The child's side: count (or echo) messages until the parent closes the channel.
fn child(mode: &str, expected: u64) -> Fallible<()> {
    let mut channel = Channel::from_env()?;
    channel.send(&json!({ "ready": mode }))?;
    match mode {
        "lines" => {
            let mut count = 0;
            while let Some(_msg) = channel.recv::<Msg>()? {
                count += 1;
                if count == expected {
                    channel.send(&json!({ "done": count }))?;
                }
            }
        }
        "frames" => {
            let mut frames = FrameChannel::from_fd(channel.into_inner().into());
            let mut count = 0;
            while let Some(_msg) = frames.recv::<Msg>()? {
                count += 1;
                if count == expected {
                    frames.send(&json!({ "done": count }))?;
                }
            }
        }
        "echo" => {
            while let Some(msg) = channel.recv::<Msg>()? {
                channel.send(&msg)?;
            }
        }
        other => return Err(format!("unknown child mode {other:?}").into()),
    }
    Ok(())
}

/// Start a child in `mode` and wait until it is ready.
fn start(mode: &str, expected: u64) -> Fallible<(std::process::Child, Channel)> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--child", mode, "--messages", &expected.to_string()]);
    let (child, mut channel) = spawn_with_channel(cmd)?;
    channel
        .recv::<Value>()?
        .ok_or("the child ended before it was ready")?;
    Ok((child, channel))
}

fn finish(mut child: std::process::Child, channel: impl Sized) -> Fallible<()> {
    drop(channel);
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("child failed: {status}").into());
    }
    Ok(())
}

fn messages(n: u64) -> Vec<Msg> {
    (0..n)
        .map(|seq| Msg {
            seq,
            body: "hello, channel".to_string(),
        })
        .collect()
}

/// Messages per second, JSON lines, one write per message (or `batch` per write).
fn lines(msgs: &[Msg], batch: Option<usize>) -> Fallible<f64> {
    let (child, mut channel) = start("lines", msgs.len() as u64)?;
    let started = Instant::now();
    match batch {
        None => msgs.iter().try_for_each(|m| channel.send(m))?,
        Some(size) => msgs
            .chunks(size)
            .try_for_each(|chunk| channel.send_batch(chunk))?,
    }
    channel.recv::<Value>()?.ok_or("no done from the child")?;
    let rate = msgs.len() as f64 / started.elapsed().as_secs_f64();
    finish(child, channel)?;
    Ok(rate)
}

/// Messages per second, length-prefixed frames with a JSON body, one write each.
fn frames(msgs: &[Msg]) -> Fallible<f64> {
    let (child, channel) = start("frames", msgs.len() as u64)?;
    let mut frames = FrameChannel::from_fd(channel.into_inner().into());
    let started = Instant::now();
    msgs.iter().try_for_each(|m| frames.send(m))?;
    frames.recv::<Value>()?.ok_or("no done from the child")?;
    let rate = msgs.len() as f64 / started.elapsed().as_secs_f64();
    finish(child, frames)?;
    Ok(rate)
}

/// Mean microseconds per round trip.
fn roundtrip(n: u64) -> Fallible<f64> {
    let (child, mut channel) = start("echo", 0)?;
    let msg = Msg {
        seq: 0,
        body: "ping".to_string(),
    };
    let started = Instant::now();
    for _ in 0..n {
        channel.send(&msg)?;
        channel.recv::<Msg>()?.ok_or("the echo child ended")?;
    }
    let us = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    finish(child, channel)?;
    Ok(us)
}

/// MB/s (10^6 bytes) of a raw copy loop: 64 KiB writes, 64 KiB reads, two threads.
fn raw_copy<R, W>(reader: R, writer: W, bytes: usize) -> Fallible<f64>
where
    R: Read + Send,
    W: Write + Send,
{
    let chunk = vec![7u8; 64 * 1024];
    let started = Instant::now();
    let got = std::thread::scope(|s| {
        let mut writer = writer;
        let sender = s.spawn(move || -> std::io::Result<()> {
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                writer.write_all(&chunk[..n])?;
                left -= n;
            }
            Ok(())
        });
        let mut reader = reader;
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        sender.join().expect("the writer thread does not panic")?;
        Ok(got)
    })?;
    if got != bytes {
        return Err(format!("copied {got} of {bytes} bytes").into());
    }
    Ok(bytes as f64 / 1e6 / started.elapsed().as_secs_f64())
}

/// Messages per second of decoding alone: the lines of `msgs` in one buffer, fed to a
/// LineDecoder in 64 KiB pieces and parsed, in this thread, without any I/O.
fn decode_only(msgs: &[Msg]) -> Fallible<f64> {
    let mut wire = Vec::new();
    for m in msgs {
        serde_json::to_writer(&mut wire, m)?;
        wire.push(b'\n');
    }
    let started = Instant::now();
    let mut decoder = LineDecoder::new(DEFAULT_LIMIT);
    let mut count = 0usize;
    for piece in wire.chunks(64 * 1024) {
        decoder.push(piece);
        while let Some(line) = decoder.next() {
            let _msg: Msg = decode_line(line?)?;
            count += 1;
        }
    }
    if count != msgs.len() {
        return Err(format!("decoded {count} of {} messages", msgs.len()).into());
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// MB/s of 1 MiB frames over a FrameChannel between two threads.
fn bulk_frames(bytes: usize) -> Fallible<f64> {
    let (mut tx, mut rx) = FrameChannel::pair()?;
    let body = vec![7u8; DEFAULT_LIMIT];
    let started = Instant::now();
    let got = std::thread::scope(|s| {
        let sender = s.spawn(move || -> Result<(), ChannelError> {
            let mut left = bytes;
            while left > 0 {
                let n = left.min(body.len());
                tx.send_bytes(&body[..n])?;
                left -= n;
            }
            Ok(())
        });
        let mut got = 0;
        while let Some(frame) = rx.recv_bytes()? {
            got += frame.len();
        }
        sender.join().expect("the sender thread does not panic")?;
        Ok::<_, ChannelError>(got)
    })?;
    if got != bytes {
        return Err(format!("received {got} of {bytes} bytes").into());
    }
    Ok(bytes as f64 / 1e6 / started.elapsed().as_secs_f64())
}

/// What one run of node/throughput.js measured.
struct NodeRun {
    /// End to end: first `send` to the child's `{done}` answer, as in the Rust tests.
    messages_per_s: f64,
    /// The parent's `for` loop of `child.send` calls alone (they only queue the writes).
    send_loop_per_s: f64,
    roundtrip_us: f64,
}

/// One run of node/throughput.js; `None` without node.
fn node_run(args: &Args) -> Option<NodeRun> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/throughput.js");
    let output = Command::new("node")
        .args([
            script,
            "parent",
            &args.messages.to_string(),
            &args.roundtrips.to_string(),
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "throughput: node failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
    };
    Some(NodeRun {
        messages_per_s: value("messages_per_s ")?,
        send_loop_per_s: value("send_loop_per_s ")?,
        roundtrip_us: value("roundtrip_us ")?,
    })
}

struct Row {
    name: &'static str,
    unit: &'static str,
    values: Vec<f64>,
}

impl Row {
    fn new(name: &'static str, unit: &'static str) -> Row {
        Row {
            name,
            unit,
            values: Vec::new(),
        }
    }

    /// `None` for a row that was skipped (no values).
    fn summary(&self) -> Option<Summary> {
        Summary::of(&self.values)
    }

    fn median(&self) -> f64 {
        self.summary().map_or(f64::NAN, |s| s.median)
    }
}

fn run_all(args: &Args) -> Fallible<Vec<Row>> {
    let names: [(&'static str, &'static str); 11] = [
        ("rust json-lines one write per message", "msg/s"),
        ("rust json-lines batched", "msg/s"),
        ("rust length-prefixed one write per message", "msg/s"),
        ("node process.send", "msg/s"),
        ("node process.send, parent's send loop only", "msg/s"),
        ("rust json-lines round trip", "µs"),
        ("node process.send round trip", "µs"),
        ("raw pipe copy loop", "MB/s"),
        ("raw socketpair copy loop", "MB/s"),
        ("rust length-prefixed bulk, 1 MiB frames", "MB/s"),
        ("rust json-lines decode only, one thread", "msg/s"),
    ];
    let mut rows: Vec<Row> = names.iter().map(|(n, u)| Row::new(n, u)).collect();
    let msgs = messages(args.messages);
    let bulk = args.bulk_mib * 1024 * 1024;
    let mut node_missing = false;
    for _ in 0..args.runs {
        rows[0].values.push(lines(&msgs, None)?);
        rows[1].values.push(lines(&msgs, Some(args.batch))?);
        rows[2].values.push(frames(&msgs)?);
        if !node_missing {
            match node_run(args) {
                Some(node) => {
                    rows[3].values.push(node.messages_per_s);
                    rows[4].values.push(node.send_loop_per_s);
                    rows[6].values.push(node.roundtrip_us);
                }
                None => node_missing = true,
            }
        }
        rows[5].values.push(roundtrip(args.roundtrips)?);
        let (r, w) = std::io::pipe()?;
        rows[7].values.push(raw_copy(r, w, bulk)?);
        let (a, b) = UnixStream::pair()?;
        rows[8].values.push(raw_copy(a, b, bulk)?);
        rows[9].values.push(bulk_frames(bulk)?);
        rows[10].values.push(decode_only(&msgs)?);
    }
    Ok(rows)
}

/// A goal: `rows[num]` / `rows[den]` (medians) must reach `needed`.
struct Goal {
    name: &'static str,
    num: usize,
    den: usize,
    needed: f64,
}

const GOALS: [Goal; 3] = [
    Goal {
        name: "json lines one write per message vs node process.send",
        num: 0,
        den: 3,
        needed: 4.0,
    },
    Goal {
        name: "json lines batched vs node process.send",
        num: 1,
        den: 3,
        needed: 40.0,
    },
    Goal {
        name: "length-prefixed bulk vs raw socketpair copy loop",
        num: 9,
        den: 8,
        needed: 0.6,
    },
];

/// Each goal's ratio of medians, or why it has none (the name of a row without values).
fn goals(rows: &[Row]) -> Vec<(&'static Goal, Result<f64, String>)> {
    GOALS
        .iter()
        .map(|goal| {
            let missing = [goal.num, goal.den]
                .into_iter()
                .find(|&i| rows[i].values.is_empty());
            let ratio = match missing {
                Some(i) if rows[i].name.starts_with("node") => {
                    Err("skipped (node not found on PATH)".to_string())
                }
                Some(i) => Err(format!("skipped (no {:?} measurement)", rows[i].name)),
                None => Ok(rows[goal.num].median() / rows[goal.den].median()),
            };
            (goal, ratio)
        })
        .collect()
}

fn main() {
    let args = Args::parse();
    if let Some(mode) = &args.child {
        if let Err(e) = child(mode, args.messages) {
            eprintln!("throughput child: {e}");
            std::process::exit(1);
        }
        return;
    }
    // Ranges, so that no size can overflow (a huge --bulk-mib would wrap to 0 bytes).
    let limits: [(&str, u64, u64); 5] = [
        ("--runs", args.runs as u64, 1_000),
        ("--messages", args.messages, 100_000_000),
        ("--batch", args.batch as u64, 1_000_000),
        ("--roundtrips", args.roundtrips, 100_000_000),
        ("--bulk-mib", args.bulk_mib as u64, 65_536),
    ];
    for (flag, value, max) in limits {
        if !(1..=max).contains(&value) {
            eprintln!("throughput: {flag} {value} is out of range: it must be 1 to {max}");
            std::process::exit(2);
        }
    }
    let rows = match run_all(&args) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("throughput: {e}");
            std::process::exit(1);
        }
    };
    let machine = Machine::detect();
    let build = machine.build();
    let method = format!(
        "{} messages per message test (batches of {}), {} round trips, {} MiB per bulk test; \
         {} runs, methods interleaved within each run; median, min and max over the runs; \
         message tests across two processes (a child with a channel at fd 3), bulk tests \
         across two threads; build: {build}",
        args.messages, args.batch, args.roundtrips, args.bulk_mib, args.runs
    );
    let goals = goals(&rows);
    if args.json {
        let rows: Vec<Value> = rows
            .iter()
            .filter_map(|r| Some(r.summary()?.row(r.name, r.unit)))
            .collect();
        let goals: Vec<Value> = goals
            .iter()
            .map(|(goal, ratio)| match ratio {
                Ok(ratio) => json!({"goal": goal.name, "ratio": ratio, "needed": goal.needed,
                                    "met": *ratio >= goal.needed}),
                Err(why) => json!({"goal": goal.name, "needed": goal.needed, "skipped": why}),
            })
            .collect();
        let mut doc = report("throughput", &machine, &method, rows);
        doc["goals"] = json!(goals);
        println!("{doc:#}");
        return;
    }
    println!("channel throughput: {method}");
    // The build is in the method line above, so this machine line leaves it out.
    println!("machine: {} CPUs, Linux {}", machine.cpus, machine.kernel);
    println!(
        "{:<44} {:>6} {:>12}  (min..max)",
        "method", "unit", "median"
    );
    for row in &rows {
        let Some(summary) = row.summary() else {
            println!(
                "{:<44} {:>6} {:>12}",
                row.name, row.unit, "skipped: node not found on PATH"
            );
            continue;
        };
        println!(
            "{:<44} {:>6} {:>12.1}  {}",
            row.name,
            row.unit,
            summary.median,
            summary.range()
        );
    }
    for (goal, ratio) in goals {
        let (name, needed) = (goal.name, goal.needed);
        match ratio {
            Ok(ratio) => {
                let verdict = if ratio >= needed { "met" } else { "NOT met" };
                println!("goal: {name}: {ratio:.2}x (needs {needed}x): {verdict}");
            }
            Err(why) => println!("goal: {name}: {why}"),
        }
    }
}
