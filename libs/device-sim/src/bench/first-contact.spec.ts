import { createPhone } from '../phone/phone-factory';
import { SeededRandom } from '../time/random';
import { SimClock } from '../time/sim-clock';
import { FirstContactLog } from './first-contact';

describe('FirstContactLog', () => {
  const random = new SeededRandom(1);
  const clock = new SimClock(1);
  const phone = createPhone({ productType: 'iPhone10,1', stage: 'restore-ramdisk' }, clock, random);
  let now = 0;
  const log = new FirstContactLog(() => now);

  it('keeps the first host request after each plug, and only that one', () => {
    now = 1_000;
    log.plugged(phone, '1-1.3');
    now = 1_120;
    log.contact(phone, 'usbmux-connect:62078');
    now = 1_500;
    log.contact(phone, 'usbmux-connect:12345');
    expect(log.entries()).toEqual([
      {
        ecid: phone.identity.ecidHex,
        port: '1-1.3',
        pluggedAt: 1_000,
        firstContactAt: 1_120,
        firstContact: 'usbmux-connect:62078',
      },
    ]);
  });

  it('starts over when the phone is plugged again', () => {
    now = 5_000;
    log.plugged(phone, '1-1.4');
    expect(log.entries()[0]).toEqual({ ecid: phone.identity.ecidHex, port: '1-1.4', pluggedAt: 5_000 });
    now = 5_040;
    log.contact(phone, 'usb:control IN');
    expect(log.entries()[0].firstContactAt).toBe(5_040);
  });

  it('ignores requests to a phone that was never plugged', () => {
    const other = createPhone({ productType: 'iPhone10,1', stage: 'ios' }, clock, random);
    log.contact(other, 'usbmux-connect:62078');
    expect(log.entries().map((e) => e.ecid)).toEqual([phone.identity.ecidHex]);
  });
});
