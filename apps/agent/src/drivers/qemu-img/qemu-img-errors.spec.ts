import { JobFailureReason } from '@snapdeck/contracts';
import { describeQemuImgFailure, type QemuImgFailure } from './qemu-img-errors.js';

const base: QemuImgFailure = {
  stderr: '',
  exitCode: 1,
  signal: null,
  timedOut: false,
  notInstalled: false,
  timeoutSeconds: 600,
};
const file = '/srv/primary/volumes/0b0f9a4e-8a51-4c44-9f57-0d9f1c2b3a4d.qcow2';
const labels = new Map([
  [file, 'volume 0b0f9a4e-8a51-4c44-9f57-0d9f1c2b3a4d'],
  ['/srv/primary/volumes', 'primary storage'],
]);

describe('describeQemuImgFailure', () => {
  it('explains a held write lock as a retryable "in use" failure, without the path', () => {
    const stderr = `qemu-img: Could not open '${file}': Failed to get "write" lock\nIs another process using the image [${file}]?\n`;
    const described = describeQemuImgFailure({ ...base, stderr }, labels);
    expect(described).toEqual({
      message: 'the image is in use by another process (its qcow2 write lock is held); try again once it is released',
      retryable: true,
    });
  });

  it('marks an image qcow2 calls corrupt as damaged (the reason the api acts on), without the path', () => {
    const stderr = `qemu-img: Could not open '${file}': qcow2: Image is corrupt; cannot be opened read/write\n`;
    expect(describeQemuImgFailure({ ...base, stderr }, labels)).toEqual({
      message:
        'Could not open volume 0b0f9a4e-8a51-4c44-9f57-0d9f1c2b3a4d: qcow2: Image is corrupt; cannot be opened read/write',
      retryable: false,
      reason: JobFailureReason.IMAGE_DAMAGED,
    });
    const marked = `qcow2: Marking image as corrupt: Preventing invalid write on metadata; further corruption events will be suppressed\n`;
    expect(describeQemuImgFailure({ ...base, stderr: marked }, labels).reason).toBe(JobFailureReason.IMAGE_DAMAGED);
    expect(
      describeQemuImgFailure({ ...base, stderr: 'qemu-img: No space left on device\n' }, labels).reason,
    ).toBeUndefined();
  });

  it('recognises the shared-lock variant printed by qemu-img info', () => {
    const stderr = `qemu-img: Could not open '${file}': Failed to get shared "write" lock\n`;
    expect(describeQemuImgFailure({ ...base, stderr }, labels).retryable).toBe(true);
  });

  it('drops the "qemu-img:" prefix, names the volume instead of its path and says a nested cause once', () => {
    const stderr = `qemu-img: Could not open '${file}': Could not open '${file}': No such file or directory\n`;
    expect(describeQemuImgFailure({ ...base, stderr }, labels)).toEqual({
      message: 'Could not open volume 0b0f9a4e-8a51-4c44-9f57-0d9f1c2b3a4d: No such file or directory',
      retryable: false,
    });
  });

  it('hides absolute paths it has no label for', () => {
    const stderr = "qemu-img: /etc/x.qcow2: Could not create '/etc/x.qcow2': Permission denied\n";
    const { message } = describeQemuImgFailure({ ...base, stderr }, labels);
    expect(message).toBe('<path>: Could not create <path>: Permission denied');
  });

  it('keeps a snapshot-not-found message as it is', () => {
    const stderr = "qemu-img: Could not delete snapshot 'nope': snapshot not found\n";
    expect(describeQemuImgFailure({ ...base, stderr }, labels).message).toBe(
      "Could not delete snapshot 'nope': snapshot not found",
    );
  });

  it('ignores the "Formatting" progress line of qemu-img create', () => {
    const stderr = `Formatting '${file}', fmt=qcow2 size=1073741824\nqemu-img: ${file}: Image creation needs a size parameter\n`;
    expect(describeQemuImgFailure({ ...base, stderr }, labels).message).toBe(
      'volume 0b0f9a4e-8a51-4c44-9f57-0d9f1c2b3a4d: Image creation needs a size parameter',
    );
  });

  it('explains a missing qemu-img, a timeout, a signal and an empty stderr', () => {
    expect(describeQemuImgFailure({ ...base, notInstalled: true }).message).toContain('qemu-img is not installed');
    expect(describeQemuImgFailure({ ...base, timedOut: true, signal: 'SIGKILL', timeoutSeconds: 90 })).toEqual({
      message: 'qemu-img did not finish within 90 s and was stopped',
      retryable: true,
    });
    expect(describeQemuImgFailure({ ...base, exitCode: null, signal: 'SIGTERM' }).message).toBe(
      'qemu-img was killed by signal SIGTERM',
    );
    expect(describeQemuImgFailure({ ...base, exitCode: 3 }).message).toBe(
      'qemu-img exited with status 3 and no message',
    );
  });
});
