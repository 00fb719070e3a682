//! `netns_client --turn-tcp`: TURN over TCP for a `webrtc` 0.17.2 peer, which speaks TURN over
//! UDP only — a loopback UDP port whose datagrams go over one TCP connection to the TURN server,
//! framed as RFC 6062 / RFC 5766 §11.7 say (see the client's module doc).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Binds a loopback UDP port and carries each local sender's datagrams over its own TCP
/// connection to `target` (a TURN server), framed as on a TURN TCP connection: STUN messages as
/// they are, ChannelData padded to 4 bytes. Returns the UDP port.
pub async fn turn_tcp_shim(target: String) -> anyhow::Result<u16> {
    let udp = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let port = udp.local_addr()?.port();
    tokio::spawn(async move {
        let mut conns: HashMap<SocketAddr, tokio::net::tcp::OwnedWriteHalf> = HashMap::new();
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            let wr = match conns.entry(from) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(v) => {
                    let Ok(tcp) = TcpStream::connect(target.as_str()).await else {
                        println!("turn-tcp: cannot connect to {target}");
                        continue;
                    };
                    let (rd, wr) = tcp.into_split();
                    tokio::spawn(tcp_to_udp(rd, udp.clone(), from));
                    v.insert(wr)
                }
            };
            let mut frame = buf[..n].to_vec();
            frame.resize(n.div_ceil(4) * 4, 0);
            let ok = wr.write_all(&frame).await.is_ok();
            if !ok {
                conns.remove(&from);
            }
        }
    });
    Ok(port)
}

/// Splits the TURN server's TCP stream into STUN messages and ChannelData and sends each to
/// `to` as one datagram.
async fn tcp_to_udp(mut rd: tokio::net::tcp::OwnedReadHalf, udp: Arc<UdpSocket>, to: SocketAddr) {
    let mut head = [0u8; 4];
    loop {
        if rd.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u16::from_be_bytes([head[2], head[3]]) as usize;
        // STUN: 20-byte header, then `len`; ChannelData (first byte 0x40..0x7f): 4 + len, padded.
        let (keep, total) = if head[0] & 0xc0 == 0 {
            (20 + len, 20 + len)
        } else {
            (4 + len, (4 + len).div_ceil(4) * 4)
        };
        let mut frame = vec![0u8; total];
        frame[..4].copy_from_slice(&head);
        if rd.read_exact(&mut frame[4..]).await.is_err() {
            return;
        }
        if udp.send_to(&frame[..keep], to).await.is_err() {
            return;
        }
    }
}
