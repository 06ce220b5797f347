//! Source choices: which kind of source, and the camera settings.

use std::fmt;

/// Where frames come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceKind {
    /// A camera through `getUserMedia`.
    #[default]
    Camera,
    /// The built-in moving pattern with a frame counter (needs no camera).
    Test,
    /// A local video file, played in a loop.
    File,
}

impl SourceKind {
    pub const ALL: [Self; 3] = [Self::Camera, Self::Test, Self::File];

    /// The URL and `<select>` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Camera => "camera",
            Self::Test => "test",
            Self::File => "file",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Camera => "Camera",
            Self::Test => "Test pattern",
            Self::File => "Video file",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Requested capture size (the camera may pick the nearest it has).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resolution {
    P480,
    #[default]
    P720,
    P1080,
}

impl Resolution {
    pub const ALL: [Self; 3] = [Self::P480, Self::P720, Self::P1080];

    /// Width and height in pixels (16:9).
    pub fn size(self) -> (u32, u32) {
        match self {
            Self::P480 => (854, 480),
            Self::P720 => (1280, 720),
            Self::P1080 => (1920, 1080),
        }
    }

    /// The URL and `<select>` value: the line count.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P480 => "480",
            Self::P720 => "720",
            Self::P1080 => "1080",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.strip_suffix('p').unwrap_or(text);
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::P480 => "480p",
            Self::P720 => "720p",
            Self::P1080 => "1080p",
        }
    }
}

/// Which way the camera faces (phones); `Any` lets the browser choose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Facing {
    #[default]
    Any,
    /// Front ("selfie") camera.
    User,
    /// Back camera.
    Environment,
}

impl Facing {
    pub const ALL: [Self; 3] = [Self::Any, Self::User, Self::Environment];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::User => "user",
            Self::Environment => "environment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Any => "Any",
            Self::User => "Front",
            Self::Environment => "Back",
        }
    }
}

/// Frame rates offered in the picker.
pub const FRAME_RATES: [u32; 4] = [15, 24, 30, 60];
/// Highest frame rate accepted from a URL.
pub const MAX_FPS: u32 = 120;

/// Everything needed to open a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSettings {
    pub kind: SourceKind,
    /// A `deviceId` from `enumerateDevices`; `None` = the browser's choice.
    pub device_id: Option<String>,
    pub resolution: Resolution,
    pub fps: u32,
    pub facing: Facing,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            kind: SourceKind::default(),
            device_id: None,
            resolution: Resolution::default(),
            fps: 30,
            facing: Facing::default(),
        }
    }
}
