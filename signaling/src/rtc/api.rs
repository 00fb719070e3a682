//! The `webrtc` API object every peer of the engine is made from: only VP8 and Opus (with the
//! RTCP feedback the call uses), the default interceptors with a smaller NACK buffer, the
//! `abs-send-time` extension for REMB, and the network settings of [`RtcConfig`] (ports, NAT
//! addresses, bind addresses, no mDNS).

use webrtc::api::API;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::{configure_rtcp_reports, configure_twcc_receiver_only};
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine as WMediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::ice::network_type::NetworkType;
use webrtc::ice::udp_network::{EphemeralUDP, UDPNetwork};
use webrtc::ice_transport::ice_candidate_type::RTCIceCandidateType;
use webrtc::interceptor::nack::{generator::Generator, responder::Responder};
use webrtc::interceptor::registry::Registry;
use webrtc::rtp_transceiver::RTCPFeedback;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType,
};

use super::{RtcConfig, remb};
use crate::media::MediaError;

fn codecs() -> [(RTCRtpCodecParameters, RTPCodecType); 2] {
    let fb = |t: &str, p: &str| RTCPFeedback {
        typ: t.to_owned(),
        parameter: p.to_owned(),
    };
    [
        (
            RTCRtpCodecParameters {
                capability: opus_cap(),
                payload_type: 111,
                ..Default::default()
            },
            RTPCodecType::Audio,
        ),
        (
            RTCRtpCodecParameters {
                capability: RTCRtpCodecCapability {
                    rtcp_feedback: vec![
                        fb("goog-remb", ""),
                        fb("ccm", "fir"),
                        fb("nack", ""),
                        fb("nack", "pli"),
                    ],
                    ..vp8_cap()
                },
                payload_type: 96,
                ..Default::default()
            },
            RTPCodecType::Video,
        ),
    ]
}

pub(crate) fn opus_cap() -> RTCRtpCodecCapability {
    RTCRtpCodecCapability {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

pub(crate) fn vp8_cap() -> RTCRtpCodecCapability {
    RTCRtpCodecCapability {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

/// Builds a `webrtc` API object with only VP8 and Opus and the default interceptors.
/// Packets kept per outgoing video stream to answer NACKs: 2^9 = 512, several seconds of video,
/// longer than any retransmission still useful in a live call. The library's default (8192)
/// grows to ≈10 MB per stream after a couple of minutes, ≈20 MB per hearing.
const NACK_BUFFER_LOG2: u8 = 9;

/// The library's default interceptors (NACK, RTCP reports, TWCC receiver), with a smaller NACK
/// send buffer.
fn interceptors(m: &mut WMediaEngine) -> Result<Registry, webrtc::Error> {
    let mut registry = Registry::new();
    registry.add(Box::new(
        Responder::builder().with_log2_size(NACK_BUFFER_LOG2),
    ));
    registry.add(Box::new(Generator::builder()));
    let registry = configure_rtcp_reports(registry);
    configure_twcc_receiver_only(registry, m)
}

pub fn build_api(cfg: &RtcConfig) -> Result<API, MediaError> {
    let merr = |e: webrtc::Error| MediaError::new("media_init", e.to_string());
    let mut m = WMediaEngine::default();
    for (c, kind) in codecs() {
        m.register_codec(c, kind).map_err(merr)?;
    }
    remb::register_send_time(&mut m).map_err(merr)?;
    let registry = interceptors(&mut m).map_err(merr)?;
    let mut s = SettingEngine::default();
    if cfg.udp_port_min != 0 || cfg.udp_port_max != 0 {
        let eph = EphemeralUDP::new(cfg.udp_port_min, cfg.udp_port_max)
            .map_err(|e| MediaError::new("media_init", e.to_string()))?;
        s.set_udp_network(UDPNetwork::Ephemeral(eph));
    }
    if !cfg.nat_1to1_ips.is_empty() {
        s.set_nat_1to1_ips(cfg.nat_1to1_ips.clone(), RTCIceCandidateType::Host);
    }
    s.set_include_loopback_candidate(cfg.include_loopback);
    s.set_network_types(vec![NetworkType::Udp4, NetworkType::Udp6]);
    if !cfg.bind_ips.is_empty() {
        let ips = cfg.bind_ips.clone();
        s.set_ip_filter(Box::new(move |ip| ips.contains(&ip)));
    }
    s.set_ice_multicast_dns_mode(webrtc::ice::mdns::MulticastDnsMode::Disabled);
    Ok(APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(s)
        .build())
}
