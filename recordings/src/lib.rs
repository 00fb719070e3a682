//! RTP capture, playable copies, sealing.
