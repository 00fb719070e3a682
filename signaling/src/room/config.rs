//! The signalling layer's limits and timers ([`HubConfig`]) and the WebSocket close codes it uses.

use std::time::Duration;

/// Limits and timers of the signalling layer.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The first frame must be `join` within this time.
    pub join_timeout: Duration,
    /// The server sends a WebSocket ping this often.
    pub ping_interval: Duration,
    /// A connection with no inbound frame for this long is dead.
    pub idle_timeout: Duration,
    /// How long a dropped participant may come back before the other seats see `left`.
    pub grace: Duration,
    /// Token-bucket rate limit per connection: frames per second and burst.
    pub rate_per_sec: f64,
    pub rate_burst: f64,
    /// Bad frames (malformed, unknown, over the rate) tolerated before the socket is closed.
    pub max_abuse: u32,
    /// Frames queued to one connection before it is considered too slow and closed.
    pub outbound_queue: usize,
    /// A send to the socket that takes longer than this drops the connection.
    pub send_timeout: Duration,
    /// When a seat's link is fair or poor ([`crate::link`]).
    pub link: crate::link::LinkThresholds,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            join_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            grace: Duration::from_secs(120),
            rate_per_sec: 20.0,
            rate_burst: 60.0,
            max_abuse: 10,
            outbound_queue: 256,
            send_timeout: Duration::from_secs(10),
            link: Default::default(),
        }
    }
}

/// Close codes used by the server (4000-4999 are application codes).
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const REPLACED: u16 = 4001;
    pub const UNAUTHORIZED: u16 = 4003;
    pub const JOIN_TIMEOUT: u16 = 4008;
    pub const HEARING_CLOSED: u16 = 4009;
    /// The hearing's call is held by another server process (`error{wrong_node, node_url}`).
    pub const WRONG_NODE: u16 = 4010;
    /// The server process is stopping: reconnect (another process takes the hearing over).
    pub const SERVICE_RESTART: u16 = 1012;
}
