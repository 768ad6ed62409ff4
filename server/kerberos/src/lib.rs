//! Kerberos for the portal and the simulator: SPNEGO acceptance, delegated credentials, MS-PAC.
