//! Signalling messages, rooms and the media peer.
