//! A frame on the bus: the JPEG as published, unchanged, as the NATS payload, and who sent
//! it in three NATS headers (`protocol::cluster::header`). Also [`Gaps`], which counts the
//! frames that never arrived.

use std::str::FromStr;

use async_nats::{HeaderMap, HeaderValue, Message};
use protocol::cluster::header;

/// The bytes a frame message's headers may take at most (the node id is at most
/// [`super::MAX_NODE_ID`] bytes): the broker's payload limit counts them too.
pub const HEADER_RESERVE: usize = 512;

/// Who sent a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameOrigin {
    pub node: String,
    pub generation: u64,
    pub seq: u64,
}

impl FrameOrigin {
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        // The node id was checked at startup to be a valid header value.
        if let Ok(node) = HeaderValue::from_str(&self.node) {
            headers.insert(header::NODE, node);
        }
        headers.insert(header::GENERATION, HeaderValue::from(self.generation));
        headers.insert(header::SEQ, HeaderValue::from(self.seq));
        headers
    }

    /// The origin of a frame message; `None` if its headers are not all there and valid.
    pub fn of(message: &Message) -> Option<Self> {
        let headers = message.headers.as_ref()?;
        let number = |name: &str| headers.get(name)?.as_str().parse::<u64>().ok();
        Some(Self {
            node: headers.get(header::NODE)?.as_str().to_owned(),
            generation: number(header::GENERATION)?,
            seq: number(header::SEQ)?,
        })
    }
}

/// The last frame seen from the current publisher, to count the missing ones.
#[derive(Default)]
pub struct Gaps {
    last: Option<(String, u64, u64)>,
}

/// What became of one arriving frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Next in order; `missing` frames before it never came.
    InOrder { missing: u64 },
    /// Older than one already shown (a late duplicate): not shown again.
    Stale,
}

impl Gaps {
    pub fn arrive(&mut self, origin: &FrameOrigin) -> Arrival {
        let same_publisher = self
            .last
            .as_ref()
            .filter(|(node, generation, _)| {
                *node == origin.node && *generation == origin.generation
            })
            .map(|(_, _, seq)| *seq);
        let missing = match same_publisher {
            Some(last) if origin.seq <= last => return Arrival::Stale,
            Some(last) => origin.seq - last - 1,
            // A new publisher (or the first frame seen): nothing to compare with.
            None => 0,
        };
        self.last = Some((origin.node.clone(), origin.generation, origin.seq));
        Arrival::InOrder { missing }
    }
}

/// Whether `id` may name a node: printable ASCII without spaces, at most
/// [`super::MAX_NODE_ID`] bytes (it travels in a header).
pub fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= super::MAX_NODE_ID
        && id.bytes().all(|b| b.is_ascii_graphic())
        && HeaderValue::from_str(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(node: &str, generation: u64, seq: u64) -> FrameOrigin {
        FrameOrigin {
            node: node.into(),
            generation,
            seq,
        }
    }

    #[test]
    fn gaps_count_missing_frames_per_publisher() {
        let mut gaps = Gaps::default();
        assert_eq!(
            gaps.arrive(&origin("a", 1, 5)),
            Arrival::InOrder { missing: 0 }
        );
        assert_eq!(
            gaps.arrive(&origin("a", 1, 6)),
            Arrival::InOrder { missing: 0 }
        );
        assert_eq!(
            gaps.arrive(&origin("a", 1, 9)),
            Arrival::InOrder { missing: 2 }
        );
        assert_eq!(gaps.arrive(&origin("a", 1, 8)), Arrival::Stale);
        // A new publisher starts its own count.
        assert_eq!(
            gaps.arrive(&origin("b", 2, 1)),
            Arrival::InOrder { missing: 0 }
        );
    }

    #[test]
    fn node_ids_fit_in_a_header() {
        assert!(valid_node_id("host-1:8080"));
        for bad in ["", "a b", "a\r\nX: y", &"x".repeat(200), "ü"] {
            assert!(!valid_node_id(bad), "{bad:?}");
        }
    }
}
