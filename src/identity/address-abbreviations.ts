/** Street-type, direction and unit abbreviations (USPS / Australia Post style), applied to whole words. */
export const ADDRESS_ABBREVIATIONS: ReadonlyArray<readonly [string, string]> = [
  ['street', 'st'], ['road', 'rd'], ['avenue', 'ave'], ['av', 'ave'], ['boulevard', 'blvd'], ['drive', 'dr'],
  ['lane', 'ln'], ['court', 'ct'], ['place', 'pl'], ['crescent', 'cres'], ['circuit', 'cct'], ['terrace', 'tce'],
  ['highway', 'hwy'], ['parkway', 'pkwy'], ['square', 'sq'], ['close', 'cl'], ['parade', 'pde'], ['mount', 'mt'],
  ['circle', 'cir'], ['way', 'wy'], ['north', 'n'], ['south', 's'], ['east', 'e'], ['west', 'w'],
];
