use std::rc::Rc;
use std::thread;

fn main() {
    let config = Rc::new(String::from("shared settings"));
    let for_worker = Rc::clone(&config);
    let worker = thread::spawn(move || {
        println!("worker sees {for_worker}");
    });
    worker.join().unwrap();
    println!("main still has {config}");
}
