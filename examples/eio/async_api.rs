//! `--api async`: an `AsyncClient` under a multi-threaded Tokio runtime, with no actix
//! `System` of its own; its events come as a stream.

use actix_engineio::{AsyncClient, Event};
use futures::{FutureExt, StreamExt};

use crate::args::Args;
use crate::output::{print, stdin_lines, Countdown};
use crate::Failure;

#[tokio::main]
pub async fn run(args: Args) -> Result<(), Failure> {
    // Listening before connecting, so that an early Ctrl-C is not missed.
    let interrupts = crate::interrupts();
    let eio = args
        .configure(AsyncClient::builder().logger(true))
        .map_err(Failure::Arguments)?
        .build();
    let mut events = eio.events();
    eio.connect(&args.url).await?;
    for payload in args.outgoing.clone() {
        if let Err(error) = eio.send(payload).await {
            eprintln!("eio: not sent: {error}");
        }
    }
    if let Some(timeout) = args.timeout() {
        let eio = eio.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            eio.disconnect().await;
        });
    }
    if args.stdin {
        tokio::spawn(forward_stdin(eio.clone()));
    }
    let interrupted = eio.clone();
    tokio::spawn(async move {
        if crate::interrupted(interrupts).await {
            interrupted.disconnect().await;
        }
    });
    let mut countdown = Countdown::new(args.count);
    if countdown.done() {
        spawn_disconnect(&eio);
    }
    // The end is when `wait` returns: with reconnection, a lost session's
    // `disconnect` is followed by another session. Every event is in the stream by then.
    let mut ended = std::pin::pin!(eio.wait());
    loop {
        tokio::select! {
            biased;
            Some(event) = events.next() => {
                print(&event, args.json);
                if matches!(event, Event::Message(_)) && countdown.received() {
                    spawn_disconnect(&eio);
                }
            }
            _ = &mut ended => break,
        }
    }
    while let Some(Some(event)) = events.next().now_or_never() {
        print(&event, args.json);
    }
    Ok(())
}

/// Disconnects without holding up the event loop, which must go on reading.
fn spawn_disconnect(eio: &AsyncClient) {
    let eio = eio.clone();
    tokio::spawn(async move { eio.disconnect().await });
}

/// Sends each line of standard input as a text message, then disconnects.
async fn forward_stdin(eio: AsyncClient) {
    let mut batches = stdin_lines();
    while let Some(batch) = batches.next().await {
        for line in batch {
            if let Err(error) = eio.send(line).await {
                eprintln!("eio: not sent: {error}");
                if eio.session().is_none() {
                    return;
                }
            }
        }
    }
    eio.disconnect().await;
}
