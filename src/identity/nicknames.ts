// Given-name variants mapped to one canonical form, so "Bob" and "Robert" agree on the nickname comparison level.
// Keys and values are folded (lower-case ASCII). Ambiguous short forms (e.g. "chris") map to the most common name.
const GROUPS: Record<string, readonly string[]> = {
  robert: ['rob', 'bob', 'bobby', 'robbie', 'bert', 'robby'],
  william: ['will', 'bill', 'billy', 'willie', 'liam', 'willy'],
  richard: ['rich', 'rick', 'dick', 'ricky', 'richie'],
  james: ['jim', 'jimmy', 'jamie', 'jimmie'],
  john: ['johnny', 'jack', 'jon', 'johnnie'],
  joseph: ['joe', 'joey', 'jo'],
  thomas: ['tom', 'tommy', 'thom'],
  michael: ['mike', 'mikey', 'mick', 'mickey'],
  charles: ['charlie', 'chuck', 'chas'],
  christopher: ['chris', 'kit', 'topher'],
  daniel: ['dan', 'danny'],
  david: ['dave', 'davy', 'davey'],
  edward: ['ed', 'eddie', 'ted', 'ned', 'teddy'],
  anthony: ['tony', 'ant'],
  andrew: ['andy', 'drew'],
  alexander: ['alex', 'alec', 'sandy', 'xander'],
  benjamin: ['ben', 'benny', 'benji'],
  matthew: ['matt', 'matty'],
  nicholas: ['nick', 'nicky', 'nico'],
  samuel: ['sam', 'sammy'],
  steven: ['steve', 'stevie', 'stephen'],
  timothy: ['tim', 'timmy'],
  jonathan: ['jonny'],
  joshua: ['josh'],
  zachary: ['zach', 'zack'],
  nathan: ['nate', 'nathaniel'],
  patrick: ['pat', 'paddy'],
  peter: ['pete'],
  gregory: ['greg'],
  henry: ['harry', 'hank', 'hal'],
  lawrence: ['larry', 'laurie'],
  leonard: ['leo', 'len', 'lenny'],
  frederick: ['fred', 'freddie', 'freddy'],
  theodore: ['theo', 'teddie'],
  oliver: ['ollie', 'olly'],
  kenneth: ['ken', 'kenny'],
  ronald: ['ron', 'ronnie'],
  donald: ['don', 'donnie'],
  gerald: ['gerry', 'jerry'],
  raymond: ['ray'],
  douglas: ['doug'],
  phillip: ['phil', 'philip'],
  elizabeth: ['liz', 'beth', 'betty', 'eliza', 'lizzie', 'libby', 'elisabeth', 'betsy'],
  margaret: ['maggie', 'meg', 'peggy', 'marge', 'margie', 'greta'],
  katherine: ['kate', 'katie', 'kathy', 'cathy', 'catherine', 'kathryn', 'kat', 'kitty'],
  jennifer: ['jen', 'jenny', 'jenn'],
  jessica: ['jess', 'jessie'],
  rebecca: ['becky', 'becca'],
  susan: ['sue', 'susie', 'suzanne'],
  deborah: ['deb', 'debbie', 'debra'],
  patricia: ['patty', 'trish', 'tricia', 'patsy'],
  victoria: ['vicky', 'tori', 'vicki'],
  alexandra: ['lexi', 'alexa'],
  samantha: ['sammie'],
  abigail: ['abby', 'abbie'],
  amelia: ['millie', 'amy'],
  isabella: ['bella', 'izzy', 'isabel', 'isabelle'],
  eleanor: ['ellie', 'nell', 'nora', 'elle'],
  christine: ['christina', 'chrissy', 'tina'],
  dorothy: ['dot', 'dottie', 'dolly'],
  barbara: ['barb', 'babs'],
  frances: ['fran', 'frankie'],
  francis: ['frank'],
  stephanie: ['steph'],
  natalie: ['nat'],
  penelope: ['penny'],
  josephine: ['josie'],
  charlotte: ['lottie', 'charlie'],
  florence: ['flo', 'florrie'],
  harriet: ['hattie'],
  evelyn: ['evie'],
  sophia: ['sophie'],
  mathilda: ['tilly', 'matilda'],
  louis: ['lou', 'louie'],
  louise: ['lou', 'lulu'],
  gabriel: ['gabe'],
  lucas: ['luke'],
  jacob: ['jake'],
  maximilian: ['max'],
  sebastian: ['seb'],
  albert: ['al', 'albie', 'bert'],
};

/** nickname -> canonical given name (both folded). */
export const NICKNAMES: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const [canonical, variants] of Object.entries(GROUPS)) {
    map.set(canonical, canonical);
    // The first group that claims a variant keeps it: the order above puts the commoner reading first.
    for (const v of variants) if (!map.has(v)) map.set(v, canonical);
  }
  return map;
})();

export function canonicalGivenName(folded: string | null): string | null {
  if (!folded) return null;
  return NICKNAMES.get(folded) ?? folded;
}
