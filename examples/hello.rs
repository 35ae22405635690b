use actix_engineio::{Client, Payload};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("http://localhost:5000".into());
    let eio = Client::new();
    eio.on_connect(|_| println!("connection established"));
    let replies = eio.clone();
    eio.on_message(move |data: Payload| {
        println!("message received with {data:?}");
        replies.disconnect(); // one message is enough
    });
    eio.on_disconnect(|reason| println!("disconnected from server: {reason}"));
    eio.connect(&url)?;
    eio.send("hello")?;
    eio.wait(); // returns once the session has ended and its handlers have run
    Ok(())
}
