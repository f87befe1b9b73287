// A personalized image for one simulated phone as it shows itself now (ECID + ApNonce), signed
// with the simulator's key the way the simulated TSS server signs: what a test, a demo script or
// the conformance suite uploads when it does not run a whole TSS round trip.
import { createHash } from 'node:crypto';
import { COMPONENT_TAGS, encodeIm4p, stitchImg4 } from '@bench/protocols';
import { issueSimTicket } from '../personalization/sim-ticket';

export interface PersonalizeForDeviceInput {
  /** BuildManifest component name: iBSS, iBEC, RestoreRamDisk, RestoreDeviceTree, RestoreKernelCache… */
  component: string;
  payload: Uint8Array;
  ecid: bigint;
  apNonce: Uint8Array;
  cpid: number;
  bdid: number;
  key: Uint8Array;
}

export function personalizeForDevice(input: PersonalizeForDeviceInput): Buffer {
  const fourcc = COMPONENT_TAGS[input.component];
  if (!fourcc) throw new RangeError(`no image type tag known for component ${input.component}`);
  const im4p = encodeIm4p({ fourcc, description: `${input.component} (simulated)`, payload: input.payload });
  const ticket = issueSimTicket(
    {
      ecid: input.ecid,
      apNonce: input.apNonce,
      chipId: input.cpid,
      boardId: input.bdid,
      securityDomain: 1,
      productionMode: true,
      securityMode: true,
      components: { [input.component]: { digest: createHash('sha384').update(im4p).digest() } },
    },
    input.key,
  );
  return stitchImg4({ im4p, im4m: ticket });
}
