import { dfuButtonsFor } from './dfu-buttons';

describe('DFU button sequences', () => {
  it('tells the families apart by ProductType', () => {
    expect(dfuButtonsFor('iPhone8,4')).toMatch(/Power \+ Home/); // SE (1st generation)
    expect(dfuButtonsFor('iPhone9,3')).toMatch(/Power \+ Volume Down for 8 s/); // iPhone 7
    expect(dfuButtonsFor('iPhone10,1')).toMatch(/^Press and release Volume Up/); // iPhone 8
    expect(dfuButtonsFor('iPhone15,4')).toMatch(/^Press and release Volume Up/); // iPhone 15
    expect(dfuButtonsFor('iPhone12,8')).toMatch(/^Press and release Volume Up/); // SE (2nd generation)
  });

  it('never guesses a sequence for an unknown model', () => {
    expect(dfuButtonsFor(undefined)).toMatch(/its model's button sequence/);
    expect(dfuButtonsFor('iPad13,1')).toMatch(/its model's button sequence/);
  });
});
