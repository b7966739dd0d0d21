// Chapter 2: the classic shared counter in Java. Two threads add one to a shared int a
// million times each, three ways: a plain `count++` (read, add, write: updates get
// lost), an AtomicInteger, and a synchronized method.
// Usage: javac -d OUT SharedCount.java && java -cp OUT SharedCount

import java.util.concurrent.atomic.AtomicInteger;

public class SharedCount {
    static final int THREADS = 2;
    static final int INCREMENTS = 1_000_000;

    // ANCHOR: plain
    static int count = 0;

    static void plain() {
        for (int i = 0; i < INCREMENTS; i++) {
            count++; // three steps: read count, add one, write count
        }
    }
    // ANCHOR_END: plain

    static final AtomicInteger atomic = new AtomicInteger();
    static int guarded = 0;

    static synchronized void addOne() {
        guarded++;
    }

    static void runOnThreads(Runnable body) throws InterruptedException {
        Thread[] threads = new Thread[THREADS];
        for (int t = 0; t < THREADS; t++) {
            threads[t] = new Thread(body);
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        int exact = THREADS * INCREMENTS;
        runOnThreads(SharedCount::plain);
        System.out.println("plain int count++:     " + count + " of " + exact);
        runOnThreads(() -> {
            for (int i = 0; i < INCREMENTS; i++) atomic.incrementAndGet();
        });
        System.out.println("AtomicInteger:         " + atomic.get() + " of " + exact);
        runOnThreads(() -> {
            for (int i = 0; i < INCREMENTS; i++) addOne();
        });
        System.out.println("synchronized method:   " + guarded + " of " + exact);
    }
}
