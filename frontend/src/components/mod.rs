//! The page's components, one per file.

pub mod backdrop_picker;
pub mod broadcast_panel;
pub mod broadcast_settings;
pub mod error_banner;
pub mod filter_card;
pub mod model_card;
pub mod notices;
pub mod pipeline_editor;
pub mod preview;
pub mod share_link;
pub mod source_panel;
pub mod stats_overlay;
