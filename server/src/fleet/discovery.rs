//! Adding devices to the registry from the portal: one by one (the "Add a device" form), or
//! discovering them from Active Directory: the computer objects in the configured OU
//! (`PORTAL_DEVICE_OU`) that carry AMT SPNs become registered devices. Known devices are never
//! changed by discovery; objects that cannot be devices are listed with the reason.

use shared::DiscoveryView;

use crate::AppState;

impl AppState {
    /// Adds (or updates, by FQDN) one device typed by `who`; audited. Bad fields are refused
    /// with the field named, and nothing is stored.
    pub async fn add_device(&self, who: &str, f: &shared::NewDeviceForm) -> Result<String, String> {
        let d = crate::registry::NewDevice::parse(
            &f.fqdn,
            &f.address,
            &f.port,
            if f.tls { "yes" } else { "no" },
            &f.site,
            &f.tags,
        )?;
        let new = crate::registry::upsert(&self.pool, &d, "manual")
            .await
            .map_err(|e| format!("the device registry could not be written: {e}"))?;
        let _ = self.fleet.reload(&self.pool).await;
        let what = if new { "add device" } else { "update device" };
        let detail = format!("{}:{}{}", d.address, d.wsman_port, if d.tls { " TLS" } else { "" });
        crate::audit::record(&self.pool, Some(who), what, Some(&d.fqdn), "ok", Some(&detail)).await;
        if let Ok(all) = self.fleet.devices(&self.pool).await
            && let Some(dev) = all.iter().find(|x| x.fqdn == d.fqdn)
        {
            self.recheck(vec![dev.id]);
        }
        Ok(format!(
            "{} {} ({detail}); its state appears in the list in a moment.",
            d.fqdn,
            if new { "added" } else { "updated" }
        ))
    }

    /// Searches the OU and registers new devices; `who` is audited ("cli" from the command line).
    pub async fn discover_devices(&self, who: &str) -> Result<DiscoveryView, String> {
        let ou = self.config.device_ou.clone().ok_or(
            "discovery is not configured: set PORTAL_DEVICE_OU to the OU that holds the AMT devices' computer objects",
        )?;
        let dir = self
            .directory
            .as_ref()
            .ok_or("discovery needs the directory: set PORTAL_LDAP_URL")?;
        let objects = dir.device_objects(&ou).await?;
        let r = crate::registry::add_discovered(&self.pool, &objects)
            .await
            .map_err(|e| format!("the device registry could not be written: {e}"))?;
        let _ = self.fleet.reload(&self.pool).await;
        let detail = format!(
            "{} found, {} added, {} known, {} rejected",
            r.found,
            r.added,
            r.known,
            r.rejected.len()
        );
        crate::audit::record(
            &self.pool,
            Some(who),
            "discover devices",
            Some(&ou),
            "ok",
            Some(&detail),
        )
        .await;
        tracing::info!(ou, found = r.found, added = r.added, "devices discovered");
        Ok(DiscoveryView {
            ou,
            found: r.found,
            added: r.added,
            known: r.known,
            rejected: r.rejected,
        })
    }
}
