//! Active Directory for provisioning: the AD settings (domain controllers, base DN, OU for AMT
//! objects, how the portal binds, approver groups), the "test" action, the device's computer
//! object (create or update with SPNs and a fresh random password), and its read-back on every
//! domain controller (the "bindless update" check).
//!
//! - [`settings`]: stored settings (SQLite, sealed password) with defaults from the configuration.
//! - [`conn`]: one connection to one DC, bound as the settings say (Kerberos, LDAPS/StartTLS, plain).
//! - [`probe`]: the "test" action: DCs answer, bind, the OU exists, the delegated rights work.
//! - [`object`]: [`object::ensure_device_object`], the apply run's AD step.
//! - [`dc_check`]: [`dc_check::check_on_every_dc`], reading the object back from every DC.
//! - [`error`]: [`AdError`]: which step failed, what was already done, what to do.
//! - [`page`]: the settings page's services (admins only, audited).

pub mod conn;
pub mod dc_check;
pub mod error;
pub mod object;
pub mod page;
pub mod probe;
pub mod settings;

pub use dc_check::{Expected, check_on_every_dc};
pub use error::{AdError, AdStep};
pub use object::{DeviceObject, MachinePassword, ensure_device_object};
pub use settings::{AdSettings, Bind, DomainController};
