'use strict';
// Profiles, stream and snapshot URIs and encoder options, first through Media2
// (which the package picks when GetServices lists ver20/media), then again
// through Media ver10 with Media2 turned off, as against a Profile S camera.
const { connect, call, emit, fail } = require('./common');

async function media(cam, label) {
	const profiles = await call(cam, 'getProfiles');
	emit({ label, profiles });
	for (const profile of profiles) {
		const token = profile.$.token;
		const rtsp = await call(cam, 'getStreamUri', { protocol: 'RTSP', profileToken: token });
		const udp = await call(cam, 'getStreamUri', { protocol: 'UDP', profileToken: token });
		const snapshot = await call(cam, 'getSnapshotUri', { profileToken: token });
		emit({ label, token, streamUri: rtsp, udpStreamUri: udp, snapshotUri: snapshot });
	}
	const first = profiles[0].$.token;
	emit({
		label,
		encoderOptions: await call(cam, 'getVideoEncoderConfigurationOptions', { profileToken: first }),
		encoders: await call(cam, 'getVideoEncoderConfigurations'),
	});
}

(async () => {
	const cam = await connect();
	emit({ media2Support: cam.media2Support });
	await media(cam, 'media2');
	cam.media2Support = false;
	await media(cam, 'media');
})().catch(fail);
