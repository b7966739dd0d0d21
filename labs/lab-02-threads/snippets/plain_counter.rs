// ANCHOR: plain
use std::thread;

fn main() {
    let mut count = 0u64;
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1_000_000 {
                    count += 1; // two threads writing one plain u64: a data race
                }
            });
        }
    });
    println!("{count}");
}
// ANCHOR_END: plain
