//! Janus beside ours (issue 18 §1): Debian's `janus` started with its own generated
//! configuration in a temporary directory (the WebSocket transport on a free loopback port, the
//! `videocall` plugin and nothing else, ICE on the host's own address [`local_ip`] since Janus
//! gathers no loopback candidate, recording into the directory), and a
//! client of its WebSocket API that puts two synthetic participants ([`Synth`], the same peer,
//! packetizer and counters as against our server) into one 1:1 call: create a session, attach
//! `janus.plugin.videocall`, register, `call` with the offer, `accept` with the answer, then
//! `set` `{record: true, filename}` for each participant (`.mjr` files), a keepalive every 20 s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::IpAddr;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webrtc::api::API;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

use crate::peer::Synth;

/// The host's own IPv4 address Janus gathers on: Janus's ICE gathers no loopback candidate, so
/// both sides use the address of the default route's interface (still kernel-local traffic,
/// never on the wire). Found by connecting a UDP socket, which sends nothing.
pub fn local_ip() -> anyhow::Result<IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0")?;
    s.connect("192.0.2.255:9")
        .or_else(|_| s.connect("10.255.255.255:9"))?;
    Ok(s.local_addr()?.ip())
}

/// The synthetic peers' API for Janus: the default codecs and interceptors (as `loopback_api`),
/// gathering only on `ip`.
pub fn api(ip: IpAddr) -> anyhow::Result<API> {
    Ok(crate::common::client_api(false, move |a| a == ip))
}

const LIB: &str = "/usr/lib/x86_64-linux-gnu/janus";
/// Every plugin but the one a 1:1 hearing needs, and every transport but WebSockets.
const OFF_PLUGINS: &str = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videoroom.so,libjanus_voicemail.so";
const OFF_TRANSPORTS: &str =
    "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so";

/// Whether a `janus` binary is on the PATH (`janus --version` runs; it exits 1).
pub fn installed() -> bool {
    Command::new("janus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A running Janus: the process, its WebSocket URL and where it records.
pub struct Janus {
    pub child: Child,
    pub url: String,
    pub recordings: PathBuf,
}

/// What a client needs of a running Janus.
#[derive(Clone)]
pub struct Client {
    pub url: String,
    pub recordings: PathBuf,
}

impl Janus {
    pub fn client(&self) -> Client {
        Client {
            url: self.url.clone(),
            recordings: self.recordings.clone(),
        }
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Writes a configuration into `dir/conf` and starts Janus on it; returns once its WebSocket
/// port accepts. Its log goes to `dir/janus.log`.
pub async fn start(dir: &Path) -> anyhow::Result<Janus> {
    let ip = local_ip()?;
    let (conf, recordings) = (dir.join("conf"), dir.join("recordings"));
    std::fs::create_dir_all(&conf)?;
    std::fs::create_dir_all(&recordings)?;
    let port = free_port()?;
    let general = format!(
        "general: {{\n  configs_folder = \"{}\"\n  plugins_folder = \"{LIB}/plugins\"\n  \
         transports_folder = \"{LIB}/transports\"\n  events_folder = \"{LIB}/events\"\n  \
         loggers_folder = \"{LIB}/loggers\"\n  debug_level = 3\n  session_timeout = 60\n}}\n\
         media: {{\n  rtp_port_range = \"40000-60000\"\n}}\n\
         nat: {{\n  ice_enforce_list = \"{ip}\"\n  ignore_mdns = true\n}}\n\
         plugins: {{\n  disable = \"{OFF_PLUGINS}\"\n}}\n\
         transports: {{\n  disable = \"{OFF_TRANSPORTS}\"\n}}\n\
         loggers: {{\n  disable = \"libjanus_jsonlog.so\"\n}}\nevents: {{\n  broadcast = false\n}}\n",
        conf.display()
    );
    std::fs::write(conf.join("janus.jcfg"), general)?;
    std::fs::write(
        conf.join("janus.transport.websockets.jcfg"),
        format!(
            "general: {{\n  json = \"plain\"\n  ws = true\n  ws_port = {port}\n  \
             ws_ip = \"127.0.0.1\"\n  wss = false\n}}\nadmin: {{\n  admin_ws = false\n}}\n"
        ),
    )?;
    std::fs::write(conf.join("janus.plugin.videocall.jcfg"), "general: {\n}\n")?;
    let log = std::fs::File::create(dir.join("janus.log"))?;
    let child = Command::new("janus")
        .arg("-F")
        .arg(&conf)
        .arg("-o")
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let janus = Janus {
        child,
        url: format!("ws://127.0.0.1:{port}"),
        recordings,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(janus);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "janus did not listen on {port} (see {}/janus.log)",
        dir.display()
    )
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

/// One participant's Janus session over its own WebSocket, with one videocall handle.
struct Session {
    tx: mpsc::UnboundedSender<String>,
    pending: Pending,
    /// Messages that answer no request of ours (incomingcall, accepted, webrtcup, hangup…).
    events: mpsc::UnboundedReceiver<Value>,
    session: u64,
    handle: u64,
}

static TXN: AtomicU64 = AtomicU64::new(1);

impl Session {
    async fn open(url: &str) -> anyhow::Result<Session> {
        let mut req = url.into_client_request()?;
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", "janus-protocol".parse()?);
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let pending: Pending = Arc::default();
        let (ev_tx, events) = mpsc::unbounded_channel();
        let p = pending.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if v["janus"] == "ack" {
                    continue; // the event with the same transaction follows
                }
                let waiter = v["transaction"]
                    .as_str()
                    .and_then(|t| p.lock().unwrap_or_else(|e| e.into_inner()).remove(t));
                match waiter {
                    Some(w) => drop(w.send(v)),
                    None => drop(ev_tx.send(v)),
                }
            }
        });
        let mut s = Session {
            tx,
            pending,
            events,
            session: 0,
            handle: 0,
        };
        let created = s.request(json!({"janus": "create"})).await?;
        s.session = id(&created)?;
        let attached = s
            .request(json!({"janus": "attach", "plugin": "janus.plugin.videocall"}))
            .await?;
        s.handle = id(&attached)?;
        let (tx, session) = (s.tx.clone(), s.session);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                let txn = TXN.fetch_add(1, Ordering::Relaxed).to_string();
                let ka = json!({"janus": "keepalive", "session_id": session, "transaction": txn});
                if tx.send(ka.to_string()).is_err() {
                    break;
                }
            }
        });
        Ok(s)
    }

    /// Sends a request and waits for its answer (the event after an ack for plugin messages).
    async fn request(&self, mut body: Value) -> anyhow::Result<Value> {
        let txn = TXN.fetch_add(1, Ordering::Relaxed).to_string();
        body["transaction"] = json!(txn);
        if self.session != 0 {
            body["session_id"] = json!(self.session);
        }
        if self.handle != 0 {
            body["handle_id"] = json!(self.handle);
        }
        let (w_tx, w_rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(txn, w_tx);
        self.tx.send(body.to_string())?;
        let body = body["body"]["request"].clone();
        let v = tokio::time::timeout(Duration::from_secs(30), w_rx)
            .await
            .map_err(|_| anyhow::anyhow!("janus: no answer in 30 s to {body}"))??;
        if v["janus"] == "error" || v["plugindata"]["data"]["error"].is_string() {
            anyhow::bail!("janus refused: {v}");
        }
        Ok(v)
    }

    /// A videocall request, with an optional JSEP.
    async fn message(&self, body: Value, jsep: Option<Value>) -> anyhow::Result<Value> {
        let mut m = json!({"janus": "message", "body": body});
        if let Some(j) = jsep {
            m["jsep"] = j;
        }
        self.request(m).await
    }

    /// Waits for a plugin event named `name` (skipping the others); returns the whole message.
    async fn event(&mut self, name: &str) -> anyhow::Result<Value> {
        let wait = async {
            while let Some(v) = self.events.recv().await {
                let result = &v["plugindata"]["data"]["result"];
                if result["event"] == name {
                    return Ok(v);
                }
                if v["plugindata"]["data"]["error"].is_string() {
                    anyhow::bail!("janus: {v}");
                }
            }
            anyhow::bail!("janus closed the socket")
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .map_err(|_| anyhow::anyhow!("janus: no {name:?} event in 30 s"))?
    }
}

fn id(v: &Value) -> anyhow::Result<u64> {
    v["data"]["id"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no id in {v}"))
}

/// The local description once ICE gathering is complete (every candidate in the SDP, so no
/// trickle is needed: `"trickle": false`).
async fn gathered(synth: &Synth) -> anyhow::Result<Value> {
    let desc = synth
        .pc
        .local_description()
        .await
        .ok_or_else(|| anyhow::anyhow!("no local description"))?;
    Ok(json!({"type": desc.sdp_type.to_string(), "sdp": desc.sdp, "trickle": false}))
}

/// Puts `roles` (two seats) of hearing `hearing` into one recorded Janus videocall; returns the
/// two participants with their sessions kept alive until [`Synth::leave`].
pub async fn call(
    api: &API,
    janus: &Client,
    hearing: &str,
    roles: [&str; 2],
) -> anyhow::Result<Vec<Synth>> {
    let mut sessions = Vec::new();
    let mut synths = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let s = Session::open(&janus.url).await?;
        let name = format!("{hearing}-{role}");
        s.message(json!({"request": "register", "username": name}), None)
            .await?;
        let leave = json!({"janus": "destroy", "session_id": s.session, "transaction": "bye"});
        let other = roles[1 - i];
        synths.push(Synth::new(api, role, &[other], s.tx.clone(), leave.to_string()).await?);
        sessions.push(s);
    }
    // the caller offers, with every candidate gathered
    let (caller, callee) = (&synths[0], &synths[1]);
    let mut done = caller.pc.gathering_complete_promise().await;
    let offer = caller.pc.create_offer(None).await?;
    caller.pc.set_local_description(offer).await?;
    let _ = done.recv().await;
    let callee_name = format!("{hearing}-{}", roles[1]);
    sessions[0]
        .message(
            json!({"request": "call", "username": callee_name}),
            Some(gathered(caller).await?),
        )
        .await?;
    // the callee gets Janus's own offer and accepts with its answer
    let incoming = sessions[1].event("incomingcall").await?;
    let sdp = incoming["jsep"]["sdp"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("incomingcall without an offer"))?;
    callee
        .pc
        .set_remote_description(RTCSessionDescription::offer(sdp.to_owned())?)
        .await?;
    let mut done = callee.pc.gathering_complete_promise().await;
    let answer = callee.pc.create_answer(None).await?;
    callee.pc.set_local_description(answer).await?;
    let _ = done.recv().await;
    sessions[1]
        .message(json!({"request": "accept"}), Some(gathered(callee).await?))
        .await?;
    let accepted = sessions[0].event("accepted").await?;
    let sdp = accepted["jsep"]["sdp"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("accepted without an answer"))?;
    caller
        .pc
        .set_remote_description(RTCSessionDescription::answer(sdp.to_owned())?)
        .await?;
    // recording on for both participants: `<base>-audio.mjr`, `<base>-video.mjr`
    for (s, role) in sessions.iter().zip(roles) {
        let base = janus.recordings.join(format!("{hearing}-{role}"));
        let set = json!({"request": "set", "record": true, "filename": base.display().to_string()});
        s.message(set, None).await?;
    }
    // the sessions' sockets stay open through the synths' senders; drain their events
    for mut s in sessions {
        tokio::spawn(async move { while s.events.recv().await.is_some() {} });
    }
    Ok(synths)
}
