// Small reference lists for believable people and places. Surnames are ordered by frequency so that a Zipf draw
// gives realistic repetition (identity resolution must discount a common surname).

export const MALE_NAMES = [
  'James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Charles', 'Christopher',
  'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Andrew', 'Joshua', 'Kenneth', 'Kevin', 'Brian',
  'Timothy', 'Ronald', 'Jason', 'Edward', 'Jeffrey', 'Ryan', 'Jacob', 'Nicholas', 'Jonathan', 'Benjamin', 'Samuel',
  'Gregory', 'Alexander', 'Patrick', 'Frank', 'Raymond', 'Jack', 'Dennis', 'Jerry', 'Tyler', 'Aaron', 'José',
  'Henry', 'Peter', 'Zachary', 'Douglas', 'Nathan', 'Walter', 'Kyle', 'Harold', 'Carl', 'Jeremy', 'Gerald',
  'Lawrence', 'Sean', 'Christian', 'Ethan', 'Austin', 'Joe', 'Albert', 'Jesse', 'Willie', 'Billy', 'Bryan',
  'Bruce', 'Noah', 'Jordan', 'Dylan', 'Ralph', 'Roy', 'Alan', 'Wayne', 'Eugene', 'Juan', 'Gabriel', 'Louis',
  'Russell', 'Randy', 'Vincent', 'Philip', 'Logan', 'Bobby', 'Harry', 'Johnny', 'Howard', 'Victor', 'Martin',
  'Ernest', 'Stanley', 'Leonard', 'Dale', 'Mohammed', 'Wei', 'Hiroshi', 'Rahul', 'Luis', 'Carlos', 'Björn',
];

export const FEMALE_NAMES = [
  'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen', 'Lisa',
  'Nancy', 'Betty', 'Sandra', 'Margaret', 'Ashley', 'Kimberly', 'Emily', 'Donna', 'Michelle', 'Carol', 'Amanda',
  'Melissa', 'Deborah', 'Stephanie', 'Dorothy', 'Rebecca', 'Sharon', 'Laura', 'Cynthia', 'Amy', 'Kathleen',
  'Angela', 'Shirley', 'Brenda', 'Emma', 'Anna', 'Pamela', 'Nicole', 'Samantha', 'Katherine', 'Christine', 'Helen',
  'Debra', 'Rachel', 'Carolyn', 'Janet', 'Maria', 'Catherine', 'Heather', 'Diane', 'Olivia', 'Julie', 'Joyce',
  'Victoria', 'Ruth', 'Virginia', 'Lauren', 'Kelly', 'Christina', 'Joan', 'Evelyn', 'Judith', 'Andrea', 'Hannah',
  'Megan', 'Cheryl', 'Jacqueline', 'Martha', 'Madison', 'Teresa', 'Gloria', 'Sara', 'Janice', 'Ann', 'Kathryn',
  'Abigail', 'Sophia', 'Frances', 'Jean', 'Alice', 'Judy', 'Isabella', 'Julia', 'Grace', 'Amber', 'Denise',
  'Danielle', 'Marilyn', 'Beverly', 'Charlotte', 'Natalie', 'Theresa', 'Diana', 'Brittany', 'Zoë', 'Renée',
  'Priya', 'Mei', 'Yuki', 'Fatima', 'Sofía', 'Chloé',
];

/** Given name -> common nicknames (used on duplicate records; identity resolution should know these). */
export const NICKNAMES: Record<string, readonly string[]> = {
  Robert: ['Bob', 'Rob', 'Bobby'], William: ['Bill', 'Will', 'Billy'], Richard: ['Rick', 'Dick', 'Rich'],
  James: ['Jim', 'Jimmy'], John: ['Jack', 'Johnny'], Michael: ['Mike', 'Mikey'], Joseph: ['Joe', 'Joey'],
  Thomas: ['Tom', 'Tommy'], Charles: ['Charlie', 'Chuck'], Christopher: ['Chris'], Daniel: ['Dan', 'Danny'],
  Matthew: ['Matt'], Anthony: ['Tony'], Steven: ['Steve'], Andrew: ['Andy', 'Drew'], Joshua: ['Josh'],
  Kenneth: ['Ken', 'Kenny'], Timothy: ['Tim'], Ronald: ['Ron'], Edward: ['Ed', 'Eddie', 'Ted'], Jeffrey: ['Jeff'],
  Nicholas: ['Nick'], Jonathan: ['Jon'], Benjamin: ['Ben'], Samuel: ['Sam'], Gregory: ['Greg'],
  Alexander: ['Alex'], Patrick: ['Pat'], Raymond: ['Ray'], Zachary: ['Zach'], Nathan: ['Nate'], Lawrence: ['Larry'],
  Gerald: ['Jerry'], Philip: ['Phil'], Vincent: ['Vince'], Leonard: ['Len'], Stanley: ['Stan'], Harold: ['Hal'],
  Elizabeth: ['Liz', 'Beth', 'Betsy', 'Lizzie'], Margaret: ['Maggie', 'Peggy', 'Meg'], Patricia: ['Pat', 'Patty', 'Trish'],
  Jennifer: ['Jen', 'Jenny'], Susan: ['Sue', 'Susie'], Jessica: ['Jess'], Kimberly: ['Kim'], Deborah: ['Debbie', 'Deb'],
  Rebecca: ['Becky', 'Becca'], Katherine: ['Kate', 'Kathy', 'Katie'], Catherine: ['Cathy', 'Cat'],
  Christine: ['Chris', 'Chrissy'], Pamela: ['Pam'], Samantha: ['Sam'], Victoria: ['Vicky', 'Tori'],
  Abigail: ['Abby'], Kathleen: ['Kathy'], Cynthia: ['Cindy'], Dorothy: ['Dot'], Judith: ['Judy'],
  Stephanie: ['Steph'], Jacqueline: ['Jackie'], Theresa: ['Terri'], Teresa: ['Terri'], Frances: ['Fran'],
  Amanda: ['Mandy'], Melissa: ['Mel'], Nicole: ['Nikki'], Madison: ['Maddie'], Isabella: ['Bella'],
};

export const SURNAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee',
  'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young',
  'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker',
  'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Gomez', 'Phillips', 'Evans', 'Turner', 'Diaz',
  'Parker', 'Cruz', 'Edwards', 'Collins', 'Reyes', 'Stewart', 'Morris', 'Morales', 'Murphy', 'Cook', 'Rogers',
  'Gutierrez', 'Ortiz', 'Morgan', 'Cooper', 'Peterson', 'Bailey', 'Reed', 'Kelly', 'Howard', 'Ramos', 'Kim', 'Cox',
  'Ward', 'Richardson', 'Watson', 'Brooks', 'Chavez', 'Wood', 'James', 'Bennett', 'Gray', 'Mendoza', 'Ruiz',
  'Hughes', 'Price', 'Alvarez', 'Castillo', 'Sanders', 'Patel', 'Myers', 'Long', 'Ross', 'Foster', 'Jimenez',
  "O'Brien", 'McDonald', 'Müller', 'Schmidt', 'Nakamura', 'Wang', 'Chen', 'Singh', 'Kowalski', 'Van der Berg',
  'Dubois', 'Rossi', 'Johansson', 'Okafor', 'Haddad', 'Fitzgerald', 'Vasquez', 'Pham', 'Novak', 'Larsen',
];

export interface Location {
  city: string;
  state: string | null;
  country: string;
  /** Postal code prefix; the rest is filled with digits (or a template for GB/CA). */
  zip: string;
  areaCodes: readonly string[];
  weight: number;
}

export const LOCATIONS: readonly Location[] = [
  { city: 'New York', state: 'NY', country: 'US', zip: '100', areaCodes: ['212', '646', '917'], weight: 10 },
  { city: 'Los Angeles', state: 'CA', country: 'US', zip: '900', areaCodes: ['213', '310', '323'], weight: 8 },
  { city: 'Chicago', state: 'IL', country: 'US', zip: '606', areaCodes: ['312', '773'], weight: 6 },
  { city: 'Houston', state: 'TX', country: 'US', zip: '770', areaCodes: ['713', '832'], weight: 5 },
  { city: 'Phoenix', state: 'AZ', country: 'US', zip: '850', areaCodes: ['602', '480'], weight: 4 },
  { city: 'Philadelphia', state: 'PA', country: 'US', zip: '191', areaCodes: ['215', '267'], weight: 4 },
  { city: 'San Antonio', state: 'TX', country: 'US', zip: '782', areaCodes: ['210'], weight: 3 },
  { city: 'San Diego', state: 'CA', country: 'US', zip: '921', areaCodes: ['619', '858'], weight: 3 },
  { city: 'Dallas', state: 'TX', country: 'US', zip: '752', areaCodes: ['214', '469'], weight: 3 },
  { city: 'Austin', state: 'TX', country: 'US', zip: '787', areaCodes: ['512', '737'], weight: 3 },
  { city: 'San Francisco', state: 'CA', country: 'US', zip: '941', areaCodes: ['415', '628'], weight: 3 },
  { city: 'Seattle', state: 'WA', country: 'US', zip: '981', areaCodes: ['206'], weight: 3 },
  { city: 'Denver', state: 'CO', country: 'US', zip: '802', areaCodes: ['303', '720'], weight: 3 },
  { city: 'Boston', state: 'MA', country: 'US', zip: '021', areaCodes: ['617', '857'], weight: 3 },
  { city: 'Atlanta', state: 'GA', country: 'US', zip: '303', areaCodes: ['404', '678'], weight: 3 },
  { city: 'Miami', state: 'FL', country: 'US', zip: '331', areaCodes: ['305', '786'], weight: 3 },
  { city: 'Portland', state: 'OR', country: 'US', zip: '972', areaCodes: ['503', '971'], weight: 2 },
  { city: 'Minneapolis', state: 'MN', country: 'US', zip: '554', areaCodes: ['612'], weight: 2 },
  { city: 'Nashville', state: 'TN', country: 'US', zip: '372', areaCodes: ['615'], weight: 2 },
  { city: 'Detroit', state: 'MI', country: 'US', zip: '482', areaCodes: ['313'], weight: 2 },
  { city: 'Columbus', state: 'OH', country: 'US', zip: '432', areaCodes: ['614'], weight: 2 },
  { city: 'Charlotte', state: 'NC', country: 'US', zip: '282', areaCodes: ['704', '980'], weight: 2 },
  { city: 'Salt Lake City', state: 'UT', country: 'US', zip: '841', areaCodes: ['801'], weight: 1 },
  { city: 'Kansas City', state: 'MO', country: 'US', zip: '641', areaCodes: ['816'], weight: 1 },
  { city: 'Toronto', state: 'ON', country: 'CA', zip: 'M5V', areaCodes: ['416', '647'], weight: 3 },
  { city: 'Vancouver', state: 'BC', country: 'CA', zip: 'V6B', areaCodes: ['604', '778'], weight: 2 },
  { city: 'London', state: null, country: 'GB', zip: 'SW1A', areaCodes: ['20'], weight: 3 },
  { city: 'Manchester', state: null, country: 'GB', zip: 'M1', areaCodes: ['161'], weight: 1 },
];

export const STREET_NAMES = [
  'Main', 'Oak', 'Pine', 'Maple', 'Cedar', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Sunset', 'Lincoln',
  'Jackson', 'River', 'Church', 'Highland', 'Forest', 'Meadow', 'Spring', 'Willow', 'Chestnut', 'Franklin',
  'Madison', 'Jefferson', 'Adams', 'Ridge', 'Valley', 'Broad', 'Market', 'Union',
];

/** Street type -> the abbreviation other systems write (address standardisation must fold these). */
export const STREET_TYPES: readonly (readonly [string, string])[] = [
  ['Street', 'St'], ['Avenue', 'Ave'], ['Road', 'Rd'], ['Boulevard', 'Blvd'], ['Drive', 'Dr'], ['Lane', 'Ln'],
  ['Court', 'Ct'], ['Place', 'Pl'],
];

export const EMAIL_DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'aol.com', 'proton.me', 'comcast.net'];
export const EMAIL_DOMAIN_WEIGHTS = [40, 14, 14, 8, 10, 3, 3, 3];
export const WORK_DOMAINS = ['acme-corp.com', 'globex.com', 'initech.io', 'umbrella-health.org', 'stark-industries.com', 'wayne-ent.com'];

/** Placeholder contact values real systems carry; they are format-valid but must never link two people. */
export const PLACEHOLDER_EMAILS = ['noemail@example.com', 'test@test.com', 'none@none.com'];
export const PLACEHOLDER_PHONES = ['555-555-5555', '000-000-0000', '(999) 999-9999'];

export const OCCUPATIONS = [
  'Engineer', 'Teacher', 'Nurse', 'Sales Manager', 'Accountant', 'Designer', 'Student', 'Retired', 'Consultant',
  'Software Developer', 'Physician', 'Lawyer', 'Marketing Specialist', 'Chef', 'Electrician', 'Small Business Owner',
];
export const EDUCATION_LEVELS = ['HIGH_SCHOOL', 'SOME_COLLEGE', 'BACHELORS', 'MASTERS', 'DOCTORATE'];
export const INCOME_RANGES = ['<25K', '25K-50K', '50K-75K', '75K-100K', '100K-150K', '150K+'];
export const LIFESTYLE_FACTORS = ['urban', 'suburban', 'rural', 'family', 'single', 'pet_owner', 'traveler', 'eco_conscious', 'fitness', 'homeowner', 'commuter', 'foodie'];

export const BROWSERS: Record<string, readonly [string, string][]> = {
  DESKTOP: [['Chrome', 'Windows'], ['Chrome', 'macOS'], ['Safari', 'macOS'], ['Edge', 'Windows'], ['Firefox', 'Linux']],
  MOBILE: [['Safari', 'iOS'], ['Chrome', 'Android'], ['Samsung Internet', 'Android']],
  TABLET: [['Safari', 'iPadOS'], ['Chrome', 'Android']],
};

export const STAFF_NAMES = ['Alex Morgan', 'Jamie Chen', 'Priya Shah', 'Sam Okafor', 'Taylor Brooks', 'Jordan Lee'];
