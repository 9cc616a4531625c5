/**
 * Issue 11, the fault suite: the private PostgreSQL restarted fast (`pg_ctl restart -m fast`) or its postmaster
 * SIGKILLed and started again, during a burst of 50 createSnapshot. Every request carries an Idempotency-Key
 * and is retried with it while the answer is a transient failure, as a careful client would: a committed
 * request must answer success, a transient failure SERVICE_UNAVAILABLE with `retryable: true` (never
 * INTERNAL_SERVER_ERROR), and the retries must not make a second snapshot.
 */
import { randomUUID } from 'node:crypto';
import { describeWith } from '@snapdeck/testing';
import { Campaign } from './support/campaign.js';
import { DATABASE } from './support/fault-stack.js';
import { volumesOnEveryHost } from './support/fleet.js';
import { codeOf } from './support/graphql.js';
import { CAMPAIGN_TIMEOUT_MS, useFaultStack } from './support/lifecycle.js';
import { acceptedIds, CREATE_SNAPSHOT, send } from './support/operations.js';
import { sleep } from './support/ports.js';
import { judge } from './support/verdict.js';

const HOSTS = ['kvm-faults-a', 'kvm-faults-b'];
const PER_HOST = 5;
const DATA_DISKS = 4;
/** Retries of one request while its answer is transient (bounded: ~10 s of retrying). */
const RETRIES = 20;
const SPACING_MS = 20;
/** Answers a careful client retries with the same key (a bare HTTP 500 included: it cannot tell what happened). */
const TRANSIENT = new Set(['SERVICE_UNAVAILABLE', 'TRANSPORT', 'INTERNAL_SERVER_ERROR', 'HTTP_500', 'HTTP_503']);

for (const how of ['restart -m fast', 'kill -9 of the postmaster'] as const) {
  const name = `PostgreSQL ${how}`;
  describeWith(['qemu-img'], `fault campaign: ${name}`, () => {
    const stack = useFaultStack({ hosts: HOSTS });
    it(
      'during a burst of 50 createSnapshot, retried with their Idempotency-Key',
      async () => {
        const { token, volumes } = await volumesOnEveryHost(stack(), PER_HOST, DATA_DISKS);
        const campaign = new Campaign(name, stack());
        /** Broken promises of the answers themselves (counted by kind), beside the common checks. */
        const answerProblems = new Map<string, number>();
        const broke = (what: string) => answerProblems.set(what, (answerProblems.get(what) ?? 0) + 1);

        const requestWithRetries = async (volumeId: string) => {
          const idempotencyKey = randomUUID();
          const sentAt = Date.now();
          for (let attempt = 0; ; attempt++) {
            const answer = await send(stack(), token, CREATE_SNAPSHOT, { volumeId }, { idempotencyKey });
            const code = codeOf(answer);
            const ids = acceptedIds(CREATE_SNAPSHOT, answer);
            if (ids) return campaign.accept(CREATE_SNAPSHOT, ids, sentAt);
            campaign.refuse(attempt === 0 ? code! : `${code} on retry`, answer);
            if (code === 'INTERNAL_SERVER_ERROR' || code === 'HTTP_500') broke(`${code} answers`);
            if (code === 'SERVICE_UNAVAILABLE' && answer.transportError === undefined) {
              const retryable = answer.response.errors?.[0]?.extensions?.retryable;
              if (retryable !== true) broke('SERVICE_UNAVAILABLE answers without retryable');
            }
            if (!TRANSIENT.has(code!) || attempt >= RETRIES) return null;
            await sleep(500);
          }
        };

        // The burst spread over ~1 s, the fault somewhere in it.
        const requests = volumes.map(async (volumeId, i) => {
          await sleep(i * SPACING_MS);
          return requestWithRetries(volumeId);
        });
        await sleep(campaign.delay(100, 900));
        campaign.fault();
        if (how === 'restart -m fast') {
          await stack().postgres.restartFast();
        } else {
          await stack().postgres.killPostmaster();
          await stack().postgres.start();
        }
        const back = Date.now();
        campaign.note(`PostgreSQL back after ${((back - campaign.lastFault) / 1000).toFixed(2)} s`);
        await Promise.all(requests);
        campaign.rounds = 1;

        const promisesOfTheAnswers = async () => {
          // One logical request per volume: a second snapshot of a volume is a retry done twice.
          const duplicates = await stack().postgres.query<{ volume_id: string; n: number }>(
            DATABASE,
            'SELECT volume_id, count(*)::int AS n FROM snapshots WHERE volume_id = ANY($1::uuid[]) GROUP BY volume_id HAVING count(*) > 1',
            [volumes],
          );
          const broken =
            answerProblems.size > 0
              ? [`answers: ${[...answerProblems].map(([what, n]) => `${n} ${what}`).join(', ')}`]
              : [];
          if (duplicates.length > 0) {
            broken.push(`duplicates: ${duplicates.map((d) => `volume ${d.volume_id} has ${d.n}`).join('; ')}`);
          }
          const unanswered = volumes.length - campaign.accepted.length;
          if (unanswered > 0) broken.push(`unanswered: ${unanswered} of ${volumes.length} never answered success`);
          return broken;
        };
        expect(await judge(campaign, back, promisesOfTheAnswers)).toEqual([]);
      },
      CAMPAIGN_TIMEOUT_MS,
    );
  });
}
