//! Room ids and publish tokens outlive the server: a new server with the same secret file
//! accepts them, one with another secret does not, and nobody can make one up.

mod support;

use protocol::RoomCreated;
use server::{
    Config,
    secret::{Origin, Secret},
};
use support::{TestServer, jpeg, within};

fn config_with(secret: Secret) -> Config {
    Config {
        secret,
        ..Config::default()
    }
}

async fn status(server: &TestServer, path: &str) -> u16 {
    server
        .http
        .get(server.url(path))
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

/// The refusal status of a publish upgrade.
async fn publish_status(server: &TestServer, room: &str, token: &str) -> u16 {
    match server.publisher_with_token(room, token).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => 101,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_keeps_working_after_a_restart_with_the_same_secret_file() {
    let dir = testkit::temp::temp_dir("test-restart");
    let path = dir.path().join("lenscast/secret");

    let (secret, origin) = Secret::load_or_create(&path).expect("secret");
    assert_eq!(origin, Origin::Created);
    let first = TestServer::with(config_with(secret)).await;
    let room = first.create_room().await;
    let mut publisher = first.publisher(&room).await;
    let mut viewer = first.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let before = jpeg(160, 120, 1, false);
    publisher.send_jpeg(&before).await;
    assert_eq!(viewer.frame().await, before);
    first.shutdown().await;
    assert_eq!(within("end of stream", viewer.next_frame()).await, None);
    drop(publisher);

    // A new process in all but name: new state, new port, the secret read back from disk.
    let (secret, origin) = Secret::load_or_create(&path).expect("secret");
    assert_eq!(origin, Origin::Loaded);
    let second = TestServer::with(config_with(secret)).await;
    assert!(second.state.rooms_in_memory() == 0);
    let state = second.room_state(&room.room).await;
    assert_eq!(state.room, room.room);
    assert!(!state.live);
    assert_eq!((state.viewers, state.frames), (0, 0));
    assert_eq!(status(&second, &room.snapshot_url).await, 503);
    assert_eq!(status(&second, &room.watch_url).await, 200);
    assert!(
        second.state.rooms_in_memory() == 0,
        "asking about a room allocates nothing"
    );

    // The viewer comes first and waits; the publisher returns with its old token.
    let mut viewer = second.viewer(&room.room, "").await;
    assert_eq!(second.state.rooms_in_memory(), 1);
    let mut publisher = second.publisher(&room).await;
    publisher.wait_viewers(1).await;
    assert!(second.room_state(&room.room).await.live);
    for seed in 2..5 {
        let after = jpeg(160, 120, seed, seed % 2 == 0);
        publisher.send_jpeg(&after).await;
        assert_eq!(viewer.frame().await, after);
    }
    let state = second.room_state(&room.room).await;
    assert_eq!((state.viewers, state.frames), (1, 3));
    assert_eq!(
        second.state.rooms_in_memory(),
        1,
        "one room, not a copy per client"
    );
    second.shutdown().await;
}

#[tokio::test]
async fn forged_ids_are_unknown_and_wrong_tokens_are_refused() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let other = server.create_room().await;
    assert_eq!(room.room.len(), 32);
    assert!(
        room.room
            .bytes()
            .chain(room.publish_token.bytes())
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "URL-safe: {room:?}"
    );

    // Made-up ids of the right shape, and the real id with one character of its tag or of
    // its random part changed.
    let flip = |id: &str, at: usize| {
        let mut b = id.as_bytes().to_vec();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).expect("ascii")
    };
    let forged = [
        "A".repeat(32),
        "abcdefghijklmnopqrstuvwxyz012345".to_owned(),
        flip(&room.room, 31),
        flip(&room.room, 27),
        flip(&room.room, 0),
    ];
    for id in &forged {
        for path in [
            format!("/api/rooms/{id}"),
            format!("/api/rooms/{id}/stream.mjpg"),
            format!("/api/rooms/{id}/snapshot.jpg"),
            format!("/watch/{id}"),
        ] {
            assert_eq!(status(&server, &path).await, 404, "{path}");
        }
        assert_eq!(
            publish_status(&server, id, &room.publish_token).await,
            404,
            "{id}"
        );
    }
    assert_eq!(server.state.rooms_in_memory(), 2, "no forged id got a room");

    // A valid id with a token that is not its own.
    let short = &room.publish_token[..room.publish_token.len() - 1];
    for token in [
        other.publish_token.as_str(),
        short,
        &format!("{}A", room.publish_token),
        &"A".repeat(room.publish_token.len()),
        "%00",
    ] {
        assert_eq!(
            publish_status(&server, &room.room, token).await,
            403,
            "{token}"
        );
    }
    assert_eq!(publish_status(&server, &room.room, "").await, 401);
    // And the right one still works.
    let mut publisher = server.publisher(&room).await;
    publisher.wait_viewers(0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn another_secret_knows_none_of_the_old_rooms() {
    let dir = testkit::temp::temp_dir("test-secrets");
    let (secret, _) = Secret::load_or_create(&dir.path().join("a")).expect("secret a");
    let first = TestServer::with(config_with(secret)).await;
    let room: RoomCreated = first.create_room().await;
    first.shutdown().await;

    let (secret, origin) = Secret::load_or_create(&dir.path().join("b")).expect("secret b");
    assert_eq!(origin, Origin::Created);
    let second = TestServer::with(config_with(secret)).await;
    for path in [
        format!("/api/rooms/{}", room.room),
        room.stream_url.clone(),
        room.snapshot_url.clone(),
        room.watch_url.clone(),
    ] {
        assert_eq!(status(&second, &path).await, 404, "{path}");
    }
    assert_eq!(
        publish_status(&second, &room.room, &room.publish_token).await,
        404
    );
    assert!(second.state.rooms_in_memory() == 0);
    second.shutdown().await;
}

#[tokio::test]
async fn restored_rooms_count_against_the_room_limit() {
    let secret = Secret::random().expect("secret");
    let first = TestServer::with(config_with(secret.clone())).await;
    let a = first.create_room().await;
    let b = first.create_room().await;
    first.shutdown().await;

    let second = TestServer::with(Config {
        max_rooms: 1,
        ..config_with(secret)
    })
    .await;
    let _viewer = second.viewer(&a.room, "").await;
    // Room b's id is valid, but there is no place for it in memory.
    assert_eq!(status(&second, &b.stream_url).await, 503);
    assert_eq!(
        publish_status(&second, &b.room, &b.publish_token).await,
        503
    );
    // Asking about it still works, since that takes no place.
    assert!(!second.room_state(&b.room).await.live);
    assert_eq!(second.state.rooms_in_memory(), 1);
    // Room a is in memory: its publisher gets in.
    let mut publisher = second.publisher(&a).await;
    publisher.wait_viewers(1).await;
    second.shutdown().await;
}
