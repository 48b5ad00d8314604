/**
 * Meeting id and creation time in room disco#info, after Jitsi's mod_muc_meeting_id: `muc#roominfo_meetingId` (a
 * UUID assigned when the room is created; the focus uses it as the Colibri2 meeting-id) and
 * `muc#roominfo_created_timestamp` (ms since epoch; LJM's conference timer).
 *
 * References:
 * - PROTOCOL.md §3.1 step 3, §3.3.8
 */
import { randomUUID } from 'node:crypto';
import { field } from '../forms.js';
import type { MucService } from '../index.js';

/** Assign the meeting id on creation and publish it with the creation time in disco#info. Called once by loadMuc(). */
export function loadMeetingId(muc: MucService): void {
  muc.events.on('muc-room-created', ({ room }) => {
    room.meetingId ??= randomUUID();
  }, 100);
  muc.events.on('muc-disco#info', ({ room, form }) => {
    if (room.meetingId) form.cnode(field('muc#roominfo_meetingId', undefined, 'The meeting unique id', room.meetingId));
    form.cnode(field('muc#roominfo_created_timestamp', undefined, 'Creation time (ms)', String(room.createdAt)));
  });
}
