//! How the server ends a publisher's socket: the close code, and for the fixed cases the
//! reason text. Reasons for refused frames name the frame's problem, so they are not fixed.

/// A close code with its fixed reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

/// The server is shutting down; reconnect later.
pub const SHUTDOWN: Close = Close {
    code: GOING_AWAY,
    reason: "server shutting down",
};

/// Another connection with the same token took the room: reconnecting would only start a
/// tug of war.
pub const REPLACED: Close = Close {
    code: REPLACED_CODE,
    reason: "replaced by a new publisher",
};

/// The publisher ended the room (`DELETE /api/rooms/{room}`): its socket, if one is open,
/// closes normally. Reconnecting would be refused with [`ROOM_ENDED`].
pub const ENDED: Close = Close {
    code: NORMAL,
    reason: "the broadcast has ended",
};

/// A publisher connecting to a room that was ended: the room takes no more frames until it
/// expires from memory; a new broadcast needs a new room.
pub const ROOM_ENDED: Close = Close {
    code: ROOM_ENDED_CODE,
    reason: "this room has ended; create a new one",
};

/// A text message that is not UTF-8.
pub const NOT_UTF8: Close = Close {
    code: INVALID_PAYLOAD,
    reason: "text message is not valid UTF-8",
};

/// RFC 6455 codes the server uses.
pub const NORMAL: u16 = 1000;
pub const GOING_AWAY: u16 = 1001;
/// A frame that breaks the WebSocket protocol (bad opcode, unmasked, reserved bits...).
pub const PROTOCOL_ERROR: u16 = 1002;
/// A binary message that is not one acceptable JPEG.
pub const UNSUPPORTED_DATA: u16 = 1003;
pub const INVALID_PAYLOAD: u16 = 1007;
/// A frame over the byte or dimension limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// lenscast's own code (private-use range) for [`REPLACED`].
pub const REPLACED_CODE: u16 = 4000;
/// lenscast's own code for [`ROOM_ENDED`].
pub const ROOM_ENDED_CODE: u16 = 4001;
