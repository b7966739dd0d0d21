// ANCHOR: arc
use std::sync::Arc;
use std::thread;

fn main() {
    let config = Arc::new(String::from("shared settings"));
    let for_worker = Arc::clone(&config);
    let worker = thread::spawn(move || {
        println!("worker sees {for_worker}");
    });
    worker.join().unwrap();
    println!("main still has {config}");
    assert_eq!(Arc::strong_count(&config), 1, "the worker's clone was dropped");
}
// ANCHOR_END: arc
