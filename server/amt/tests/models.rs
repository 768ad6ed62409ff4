//! (b) Typed values decoded from the captured fixtures, class by class;
//! (c) a built request against the documented envelope;
//! (f) device-side responses re-parsed by the client side, prefix layout vs a fixture.

mod common;

use amt::device::{self, MessageIds, Reply};
use amt::models::authorization::*;
use amt::models::boot::*;
use amt::models::general::GeneralSettings;
use amt::models::inventory::*;
use amt::models::kerberos::KerberosSettingData;
use amt::models::logs::*;
use amt::models::power::*;
use amt::models::redirection::*;
use amt::models::setup::*;
use amt::models::time_sync::*;
use amt::models::{Model, ReturnOnly};
use amt::records::auditlog::{AuditRecord, Initiator};
use amt::records::eventlog::EventRecord;
use amt::wsman::{Envelope, Request};
use amt::{AccessPermission, Realm};

fn env(rel: &str) -> Envelope {
    Envelope::parse(&common::fixture(rel)).expect("fixture parses")
}

fn get<T: Model>(rel: &str) -> T {
    let e = env(rel);
    T::read(e.instance(&T::resource_uri()).expect("instance")).expect("model")
}

fn pull<T: Model>(rel: &str) -> Vec<T> {
    env(rel)
        .pull_result()
        .expect("pull")
        .items
        .iter()
        .map(|i| T::read(i).expect("model"))
        .collect()
}

#[test]
fn general_settings() {
    let g: GeneralSettings = get("amt/general/get.xml");
    assert_eq!(
        g.digest_realm.as_deref(),
        Some("Digest:F3EB554784E729164447A89F60B641C5")
    );
    assert_eq!(g.host_name.as_deref(), Some("Test Host Name"));
    assert_eq!(g.amt_network_enabled, Some(1));
    assert_eq!(g.power_source, Some(0));
    assert_eq!(g.shared_fqdn, Some(true));
}

#[test]
fn software_identity_version() {
    let items: Vec<SoftwareIdentity> = pull("cim/software/identity/pull.xml");
    assert_eq!(items.len(), 11);
    assert_eq!(SoftwareIdentity::amt_version(&items), Some("12.0.67"));
    assert_eq!(SoftwareIdentity::find(&items, "Sku"), Some("16392"));
}

#[test]
fn inventory() {
    let p: ComputerSystemPackage = get("cim/computer/systempackage/get.xml");
    assert_eq!(p.platform_guid.as_deref(), Some("13AEE355D2BFBB6117A088AEDD7037EA"));
    assert_eq!(
        p.platform_guid_display().as_deref(),
        Some("55e3ae13-bfd2-61bb-17a0-88aedd7037ea")
    );
    assert_eq!(
        p.dependent.as_ref().and_then(|d| d.selector("Name")),
        Some("ManagedSystem")
    );
    let c: Chassis = get("cim/chassis/get.xml");
    assert_eq!(c.model.as_deref(), Some("NUC9V7QNX"));
    assert_eq!(c.serial_number.as_deref(), Some("JRQN0243007J"));
    assert_eq!(c.package_type, Some(3));
    let b: BiosElement = get("cim/bios/element/get.xml");
    let rd = b.release_date.as_ref().expect("date");
    assert_eq!(rd.0, "2020-08-10T00:00:00Z");
    let dt = rd.to_offset_date_time().expect("rfc3339");
    assert_eq!((dt.year(), u8::from(dt.month()), dt.day()), (2020, 8, 10));
    assert_eq!(b.version.as_deref(), Some("QNCFLX70.0054.2020.0810.2227"));
    let cpu: Processor = get("cim/physical/processor/get.xml");
    assert_eq!(cpu.device_id.as_deref(), Some("CPU 0"));
    assert_eq!(cpu.max_clock_speed, Some(8300));
    let mem: Vec<PhysicalMemory> = pull("cim/physical/memory/pull.xml");
    assert_eq!(mem.len(), 2);
    assert_eq!(mem[0].capacity, Some(17_179_869_184));
    assert_eq!(mem[0].part_number.as_deref(), Some("CT16G4SFD824A.M16FE "));
    let eth: EthernetPortSettings = get("amt/ethernetport/get.xml");
    assert_eq!(eth.mac_address.as_deref(), Some("c8-d9-d2-7a-1e-33"));
    assert_eq!(eth.link_policy, vec![1, 14]);
    assert_eq!(eth.dhcp_enabled, Some(true));
}

#[test]
fn provisioning() {
    let h: HostBasedSetupService = get("ips/hostbasedsetup/get.xml");
    assert_eq!(h.current_control_mode, Some(ControlMode::Admin));
    assert_eq!(h.allowed_control_modes, vec![ControlMode::Admin, ControlMode::Client]);
    let s: SetupAndConfigurationService = get("amt/setupandconfiguration/get.xml");
    assert_eq!(s.provisioning_state, Some(ProvisioningState::Post));
    assert_eq!(s.provisioning_mode, Some(ProvisioningMode::Admin));
    assert_eq!(s.password_model, Some(PasswordModel::Separate));
}

#[test]
fn power() {
    let e = env("cim/service/availabletoelement/pull.xml");
    let items = e.pull_result().expect("pull");
    assert!(items.end_of_sequence);
    let a = AssociatedPowerManagementService::read(&items.items[0]).expect("model");
    assert_eq!(a.power_state, Some(PowerState::On));
    assert_eq!(a.available_requested_power_states.len(), 8);
    assert_eq!(a.available_requested_power_states[1], PowerState::OffSoft);
    assert_eq!(
        a.service_provided.as_ref().and_then(|s| s.selector("Name")),
        Some("Intel(r) AMT Power Management Service")
    );
    let g: AssociatedPowerManagementService = get("cim/associatedpower/managementservice/get.xml");
    assert_eq!(g.power_state, Some(PowerState::On));
    let c: PowerManagementCapabilities = get("cim/power/capabilities/get.xml");
    assert_eq!(c.power_states_supported.len(), 7);
    let out = env("cim/power/managementservice/requestpowerstatechange.xml");
    let r = ReturnOnly::from_element(out.method_output("RequestPowerStateChange").expect("out")).expect("ok");
    assert_eq!(r.return_value, Some(0));
}

#[test]
fn boot() {
    let c: BootCapabilities = get("amt/boot/capabilities/get.xml");
    assert_eq!(c.force_pxe_boot, Some(true));
    assert_eq!(c.sol, Some(true));
    let s: BootSettingData = get("amt/boot/settingdata/get.xml");
    assert_eq!(s.bios_last_status, vec![2, 0]);
    assert_eq!(s.use_sol, Some(false));
    let put = s.put_request().to_xml(1);
    assert!(put.contains("<r:BIOSSetup>false</r:BIOSSetup>"));
    assert!(!put.contains("WinREBootEnabled") && !put.contains("BIOSLastStatus"));
    let pxe = change_boot_order(BootSource::Pxe).to_xml(2);
    assert!(pxe.contains("Intel(r) AMT: Force PXE Boot"));
    let none = change_boot_order(BootSource::None).to_xml(3);
    assert!(none.contains("<h:ChangeBootOrder_INPUT xmlns:h=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting\"></h:ChangeBootOrder_INPUT>"));
    assert!(set_boot_config_role().to_xml(4).contains("<h:Role>1</h:Role>"));
    // The fixture's Action lacks the "Response" suffix; the output is still found.
    let e = env("cim/boot/service/setbootconfigrole.xml");
    assert!(e.method_output("SetBootConfigRole").is_ok());
    assert!(
        env("cim/boot/configsetting/changebootorder.xml")
            .method_output("ChangeBootOrder")
            .is_ok()
    );
}

#[test]
fn redirection_and_opt_in() {
    let r: RedirectionService = get("amt/redirectionservice/get.xml");
    assert_eq!(r.enabled_state, Some(RedirectionState::IderAndSol));
    assert_eq!(r.listener_enabled, Some(true));
    assert!(RedirectionState::from_flags(false, true).sol());
    let o: OptInService = get("ips/optin/get.xml");
    assert_eq!(o.opt_in_required, Some(OptInRequired::None));
    assert_eq!(o.opt_in_state, Some(OptInState::NotStarted));
    assert_eq!(o.opt_in_display_timeout, Some(300));
}

#[test]
fn logs() {
    let e = env("amt/messagelog/getrecords.xml");
    let out = GetRecordsOutput::from_element(e.method_output("GetRecords").expect("out")).expect("ok");
    assert_eq!(out.no_more_records, Some(true));
    assert_eq!(out.record_array.len(), 3);
    let r = EventRecord::from_base64(&out.record_array[0]).expect("record");
    assert_eq!(r.timestamp, 1_704_511_587);
    assert_eq!(
        r.description(),
        "Authentication failed 10 times. The system may be under attack."
    );
    let p = PositionToFirstRecordOutput::from_element(
        env("amt/messagelog/positiontofirstrecord.xml")
            .method_output("PositionToFirstRecord")
            .expect("o"),
    )
    .expect("ok");
    assert_eq!(p.iteration_identifier, Some(1));
    let a = ReadRecordsOutput::from_element(
        env("amt/auditlog/readrecords.xml")
            .method_output("ReadRecords")
            .expect("o"),
    )
    .expect("ok");
    assert_eq!(a.total_record_count, Some(2));
    let rec = AuditRecord::from_base64(&a.event_records[0]).expect("audit");
    assert_eq!(rec.app_id, 19);
    assert_eq!(rec.event_number(), 1900);
    assert_eq!(rec.event_name(), Some("Firmware Updated"));
    assert_eq!(rec.app_name(), "Firmware Update Manager");
    assert_eq!(rec.initiator, Initiator::Local);
}

#[test]
fn time_sync() {
    let o = GetLowAccuracyTimeSynchOutput::from_element(
        env("amt/timesynchronization/getlowaccuracytimesynch.xml")
            .method_output("GetLowAccuracyTimeSynch")
            .expect("o"),
    )
    .expect("ok");
    assert_eq!(o.ta0, Some(1_704_586_865));
    let req = set_high_accuracy_time_synch(1, 2, 3).to_xml(1);
    assert!(req.contains("<h:Ta0>1</h:Ta0><h:Tm1>2</h:Tm1><h:Tm2>3</h:Tm2>"));
}

#[test]
fn kerberos_settings() {
    let k: KerberosSettingData = get("amt/kerberos/get.xml");
    assert_eq!(k.krb_enabled, Some(false));
    assert_eq!(k.supported_encryption_algorithms, vec![0, 1, 2]);
    assert_eq!(k.instance_id.as_deref(), Some(KerberosSettingData::INSTANCE_ID));
    let mut k2 = k.clone();
    k2.krb_enabled = Some(true);
    k2.realm_name = Some("LAB.EXAMPLE".into());
    let xml = k2.put_request().to_xml(9);
    assert!(xml.contains("<w:Selector Name=\"InstanceID\">Intel (r) AMT: Kerberos Settings</w:Selector>"));
    assert!(xml.contains("<r:KrbEnabled>true</r:KrbEnabled>"));
}

#[test]
fn acl() {
    let e = EnumerateUserAclEntriesOutput::from_element(
        env("amt/authorization/enumerateuseraclentries.xml")
            .method_output("EnumerateUserAclEntries")
            .expect("o"),
    )
    .expect("ok");
    assert_eq!(e.handles, vec![1, 2]);
    let g = UserAclEntryExOutput::from_element(
        env("amt/authorization/getuseraclentryex.xml")
            .method_output("GetUserAclEntryEx")
            .expect("o"),
    )
    .expect("ok");
    let entry = g.entry().expect("entry");
    assert_eq!(entry.access, AccessPermission::LocalOnly);
    assert_eq!(entry.realms, vec![Realm::LocalUn]);
    assert!(matches!(entry.user, AclUser::Digest { ref username, .. } if username == "$$uns"));

    let sid: amt::Sid = "S-1-5-21-1091816021-962961654-398595893-1110".parse().expect("sid");
    let krb = AclEntry {
        user: AclUser::Kerberos(sid),
        access: AccessPermission::LocalAndNetwork,
        realms: vec![Realm::PtAdministration, Realm::RemoteControl],
    };
    let xml = add_user_acl_entry_ex(&krb, "Digest:X").to_xml(1);
    assert!(xml.contains("<h:KerberosUserSid>AQUAAAAAAAUVAAAAVcoTQfagZTk1F8IXVgQAAA==</h:KerberosUserSid><h:AccessPermission>2</h:AccessPermission><h:Realms>3</h:Realms><h:Realms>5</h:Realms>"));
    let dig = AclEntry {
        user: AclUser::Digest {
            username: "ops".into(),
            password: Some("P@ssw0rd".into()),
        },
        access: AccessPermission::NetworkOnly,
        realms: vec![Realm::Redirection],
    };
    let xml = update_user_acl_entry_ex(7, &dig, "Digest:F3EB554784E729164447A89F60B641C5").to_xml(2);
    assert!(xml.contains("<h:Handle>7</h:Handle><h:DigestUsername>ops</h:DigestUsername><h:DigestPassword>"));
    assert_eq!(
        digest_password("ops", "Digest:F3EB554784E729164447A89F60B641C5", "P@ssw0rd").len(),
        24
    );
    assert!(remove_user_acl_entry(7).to_xml(3).contains("RemoveUserAclEntry_INPUT"));
}

#[test]
fn get_request_matches_documented_envelope() {
    let doc = concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns="http://www.w3.org/2003/05/soap-envelope">"#,
        r#"<Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To>"#,
        r#"<w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI>"#,
        r#"<a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"#,
        r#"<w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>"#
    );
    assert_eq!(Request::get("AMT_GeneralSettings").to_xml(1), doc);
    let with_sel = Request::get("AMT_GeneralSettings")
        .selector("InstanceID", "x&y")
        .to_xml(1);
    assert!(
        with_sel
            .contains("<w:SelectorSet><w:Selector Name=\"InstanceID\">x&amp;y</w:Selector></w:SelectorSet></Header>")
    );
    let pull = Request::pull("CIM_SoftwareIdentity", "DD020000").to_xml(3);
    assert!(pull.contains("<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>DD020000</EnumerationContext><MaxElements>999</MaxElements><MaxCharacters>99999</MaxCharacters></Pull>"));
}

fn prefix_decls(xml: &str) -> Vec<String> {
    let head = &xml[..xml.find("<a:Header>").unwrap_or(xml.len())];
    head.split_whitespace()
        .filter(|t| t.starts_with("xmlns:"))
        .map(|t| t.replace("= ", "=").replace('>', ""))
        .collect()
}

#[test]
fn device_get_response_round_trip_and_layout() {
    let ids = MessageIds::starting_at(0x2E4);
    let fixture_xml = common::fixture("cim/bios/element/get.xml");
    let fixture: BiosElement = get("cim/bios/element/get.xml");
    let reply = Reply {
        relates_to: "1".into(),
        resource_uri: BiosElement::resource_uri(),
    };
    let xml = device::get_response(&ids, &reply, BiosElement::CLASS, &fixture.write());
    assert_eq!(prefix_decls(&xml), prefix_decls(&fixture_xml));
    let env = Envelope::parse(&xml).expect("parses");
    assert_eq!(env.header.relates_to.as_deref(), Some("1"));
    assert_eq!(env.header.message_id, "uuid:00000000-8086-8086-8086-0000000002E4");
    assert_eq!(
        env.header.action,
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    );
    let back = BiosElement::read(env.instance(&BiosElement::resource_uri()).expect("i")).expect("m");
    assert_eq!(back, fixture);
}

#[test]
fn device_pull_and_method_round_trip() {
    let ids = MessageIds::default();
    let fixture_xml = common::fixture("cim/service/availabletoelement/pull.xml");
    let a = AssociatedPowerManagementService::read(
        &Envelope::parse(&fixture_xml)
            .expect("p")
            .pull_result()
            .expect("r")
            .items[0],
    )
    .expect("m");
    let reply = Reply {
        relates_to: "1".into(),
        resource_uri: amt::ns::resource_uri("CIM_ServiceAvailableToElement"),
    };
    let xml = device::pull_response(
        &ids,
        &reply,
        AssociatedPowerManagementService::CLASS,
        &[a.write()],
        None,
    );
    assert_eq!(prefix_decls(&xml), prefix_decls(&fixture_xml));
    let res = Envelope::parse(&xml).expect("p").pull_result().expect("r");
    assert!(res.end_of_sequence);
    assert_eq!(AssociatedPowerManagementService::read(&res.items[0]).expect("m"), a);

    // Request -> device parse -> method response -> client parse.
    let req_xml = request_power_state_change(PowerState::MasterBusReset).to_xml(42);
    let req = device::parse_request(&req_xml).expect("request");
    assert_eq!(req.message_id, "42");
    let props = req.properties();
    assert_eq!(props.get("PowerState"), Some("10"));
    let reply = req.reply();
    let out = device::return_value_response(&ids, &reply, "CIM_PowerManagementService", "RequestPowerStateChange", 0);
    let env = Envelope::parse(&out).expect("p");
    assert_eq!(env.header.relates_to.as_deref(), Some("42"));
    assert!(env.header.action.ends_with("RequestPowerStateChangeResponse"));
    assert_eq!(
        amt::wsman::parse::return_value(env.method_output("RequestPowerStateChange").expect("o")).expect("rv"),
        0
    );

    let en = device::enumerate_response(&ids, &reply, "DD020000-0000-0000-0000-000000000000");
    assert_eq!(
        Envelope::parse(&en).expect("p").enumeration_context().expect("ctx"),
        "DD020000-0000-0000-0000-000000000000"
    );
}
