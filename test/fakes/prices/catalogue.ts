// The fake Retail Prices API's price list: a small catalogue in the API's item shape
// (learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices: currencyCode,
// tierMinimumUnits, retailPrice, unitPrice, armRegionName, location, effectiveStartDate, meterId,
// meterName, productName, skuName, serviceName, serviceFamily, armSkuName, unitOfMeasure, type,
// isPrimaryMeterRegion, reservationTerm for reservations).
//
// The prices are invented (round-ish numbers, not Microsoft's); the shapes are the service's:
// - each VM size has several meters under the same armSkuName: Linux pay-as-you-go, Windows (its
//   productName ends in " Windows"), Spot and Low Priority (in skuName and meterName), a
//   Reservation (type "Reservation", unitPrice for the whole term) and a DevTestConsumption row;
// - a non-primary meter region copy of a VM meter (isPrimaryMeterRegion false, another price);
// - the same meters in another region (northeurope), so a missing region filter shows;
// - meters that are not VM sizes have an empty armSkuName; time meters say "1 Hour", "1/Hour",
//   "1/Day", "1/Month", data meters "1 GB", operation meters "10K";
// - Log Analytics ingestion is tiered: tierMinimumUnits 0 at price 0, then 5 at the paid price;
// - the Standard load balancer and NAT gateway meters are filed under armRegionName "Global"
//   (a region filter finds none), as people querying the live API report; we could not query the
//   live API from here, so this is the one shape taken on their word.
// Everything is in USD; the server converts for other currencyCode values.

export interface CatalogueItem {
  currencyCode: string;
  tierMinimumUnits: number;
  retailPrice: number;
  unitPrice: number;
  armRegionName: string;
  location: string;
  effectiveStartDate: string;
  meterId: string;
  meterName: string;
  productId: string;
  skuId: string;
  productName: string;
  skuName: string;
  serviceName: string;
  serviceId: string;
  serviceFamily: string;
  unitOfMeasure: string;
  type: string;
  isPrimaryMeterRegion: boolean;
  armSkuName: string;
  reservationTerm?: string;
}

const LOCATIONS: Record<string, string> = { westeurope: 'EU West', northeurope: 'EU North', Global: 'Global' };

let serial = 0;
function item(p: Partial<CatalogueItem> & Pick<CatalogueItem, 'meterName' | 'productName' | 'skuName' | 'serviceName' | 'unitOfMeasure' | 'retailPrice'>): CatalogueItem {
  serial++;
  const region = p.armRegionName ?? 'westeurope';
  const id = serial.toString(16).padStart(8, '0');
  return {
    currencyCode: 'USD',
    tierMinimumUnits: 0,
    unitPrice: p.retailPrice,
    armRegionName: region,
    location: LOCATIONS[region] ?? region,
    effectiveStartDate: '2024-05-01T00:00:00Z',
    meterId: `${id}-0000-4000-8000-000000000000`,
    productId: `DZH318Z0${id.slice(-4).toUpperCase()}`,
    skuId: `DZH318Z0${id.slice(-4).toUpperCase()}/0001`,
    serviceId: 'DZH313Z7MMC8',
    serviceFamily: 'Compute',
    type: 'Consumption',
    isPrimaryMeterRegion: true,
    armSkuName: '',
    ...p,
  };
}

/** Every meter the API lists for one VM size in one region. */
function vmSize(armSkuName: string, label: string, series: string, linux: number, region = 'westeurope'): CatalogueItem[] {
  const vm = { serviceName: 'Virtual Machines', serviceFamily: 'Compute', armSkuName, armRegionName: region, unitOfMeasure: '1 Hour' };
  const linuxProduct = `Virtual Machines ${series} Series`;
  const windowsProduct = `${linuxProduct} Windows`;
  const r = (n: number) => Math.round(n * 10000) / 10000;
  return [
    item({ ...vm, productName: linuxProduct, skuName: label, meterName: label, retailPrice: linux }),
    item({ ...vm, productName: windowsProduct, skuName: label, meterName: label, retailPrice: r(linux * 1.8) }),
    item({ ...vm, productName: linuxProduct, skuName: `${label} Spot`, meterName: `${label} Spot`, retailPrice: r(linux * 0.11) }),
    item({ ...vm, productName: windowsProduct, skuName: `${label} Spot`, meterName: `${label} Spot`, retailPrice: r(linux * 0.31) }),
    item({ ...vm, productName: linuxProduct, skuName: `${label} Low Priority`, meterName: `${label} Low Priority`, retailPrice: r(linux * 0.2) }),
    item({ ...vm, productName: windowsProduct, skuName: `${label} Low Priority`, meterName: `${label} Low Priority`, retailPrice: r(linux * 0.45) }),
    // A reservation's unitPrice is for the whole term.
    item({ ...vm, productName: linuxProduct, skuName: label, meterName: label, type: 'Reservation', reservationTerm: '1 Year', retailPrice: r(linux * 8760 * 0.62) }),
    item({ ...vm, productName: windowsProduct, skuName: label, meterName: label, type: 'DevTestConsumption', retailPrice: r(linux * 0.93) }),
    // The same meter in a non-primary meter region (only without meterRegion='primary').
    item({ ...vm, productName: linuxProduct, skuName: label, meterName: label, isPrimaryMeterRegion: false, retailPrice: r(linux * 1.37) }),
  ];
}

function disks(region: string, scale: number): CatalogueItem[] {
  const d = { serviceName: 'Storage', serviceFamily: 'Storage', armRegionName: region };
  return [
    item({ ...d, productName: 'Premium SSD Managed Disks', skuName: 'P6 LRS', meterName: 'P6 LRS Disk', unitOfMeasure: '1/Month', retailPrice: 9.86 * scale }),
    item({ ...d, productName: 'Premium SSD Managed Disks', skuName: 'P10 LRS', meterName: 'P10 LRS Disk', unitOfMeasure: '1/Month', retailPrice: 19.2 * scale }),
    item({ ...d, productName: 'Premium SSD Managed Disks', skuName: 'P10 ZRS', meterName: 'P10 ZRS Disk', unitOfMeasure: '1/Month', retailPrice: 28.8 * scale }),
    item({ ...d, productName: 'Standard SSD Managed Disks', skuName: 'E6 LRS', meterName: 'E6 LRS Disk', unitOfMeasure: '1/Month', retailPrice: 4.8 * scale }),
    item({ ...d, productName: 'Standard SSD Managed Disks', skuName: 'E6 LRS', meterName: 'E6 LRS Disk Operations', unitOfMeasure: '10K', retailPrice: 0.002 * scale }),
    item({ ...d, productName: 'Standard SSD Managed Disks', skuName: 'E10 LRS', meterName: 'E10 LRS Disk', unitOfMeasure: '1/Month', retailPrice: 9.6 * scale }),
  ];
}

function registry(region: string, scale: number): CatalogueItem[] {
  const r = { serviceName: 'Container Registry', serviceFamily: 'Containers', productName: 'Container Registry', armRegionName: region };
  return [
    item({ ...r, skuName: 'Basic', meterName: 'Basic Registry Unit', unitOfMeasure: '1/Day', retailPrice: 0.167 * scale }),
    item({ ...r, skuName: 'Standard', meterName: 'Standard Registry Unit', unitOfMeasure: '1/Day', retailPrice: 0.667 * scale }),
    item({ ...r, skuName: 'Premium', meterName: 'Premium Registry Unit', unitOfMeasure: '1/Day', retailPrice: 1.667 * scale }),
    item({ ...r, skuName: 'Standard', meterName: 'Data Stored', unitOfMeasure: '1 GB/Month', retailPrice: 0.1 * scale }),
  ];
}

function network(region: string, scale: number): CatalogueItem[] {
  const ip = { serviceName: 'Virtual Network', serviceFamily: 'Networking', productName: 'IP Addresses', armRegionName: region };
  return [
    item({ ...ip, skuName: 'Standard', meterName: 'Standard IPv4 Static Public IP', unitOfMeasure: '1 Hour', retailPrice: 0.005 * scale }),
    item({ ...ip, skuName: 'Basic', meterName: 'Basic IPv4 Static Public IP', unitOfMeasure: '1 Hour', retailPrice: 0.0036 * scale }),
    item({ ...ip, skuName: 'Global', meterName: 'Global IPv4 Static Public IP', unitOfMeasure: '1 Hour', retailPrice: 0.01 * scale }),
  ];
}

function logs(region: string, scale: number): CatalogueItem[] {
  const la = { serviceName: 'Log Analytics', serviceFamily: 'Management and Governance', productName: 'Log Analytics', armRegionName: region };
  return [
    item({ ...la, skuName: 'Analytics Logs', meterName: 'Analytics Logs Data Ingestion', unitOfMeasure: '1 GB', retailPrice: 0, tierMinimumUnits: 0 }),
    item({ ...la, skuName: 'Analytics Logs', meterName: 'Analytics Logs Data Ingestion', unitOfMeasure: '1 GB', retailPrice: 2.99 * scale, tierMinimumUnits: 5 }),
    item({ ...la, skuName: 'Analytics Logs', meterName: 'Analytics Logs Data Retention', unitOfMeasure: '1 GB/Month', retailPrice: 0.13 * scale }),
    item({ ...la, skuName: 'Basic Logs', meterName: 'Basic Logs Data Ingestion', unitOfMeasure: '1 GB', retailPrice: 0.65 * scale }),
  ];
}

/** Load balancer and NAT gateway: filed under 'Global' only. */
function globalNetworking(): CatalogueItem[] {
  const lb = { serviceName: 'Load Balancer', serviceFamily: 'Networking', productName: 'Load Balancer', armRegionName: 'Global' };
  const nat = { serviceName: 'NAT Gateway', serviceFamily: 'Networking', productName: 'NAT Gateway', armRegionName: 'Global' };
  return [
    item({ ...lb, skuName: 'Standard', meterName: 'Standard Included LB Rules and Outbound Rules', unitOfMeasure: '1 Hour', retailPrice: 0.025 }),
    item({ ...lb, skuName: 'Standard', meterName: 'Standard Overage LB Rules and Outbound Rules', unitOfMeasure: '1/Hour', retailPrice: 0.01 }),
    item({ ...lb, skuName: 'Standard', meterName: 'Standard Data Processed', unitOfMeasure: '1 GB', retailPrice: 0.005 }),
    item({ ...lb, skuName: 'Global', meterName: 'Global Included LB Rules and Outbound Rules', unitOfMeasure: '1 Hour', retailPrice: 0.05 }),
    item({ ...nat, skuName: 'Standard', meterName: 'Standard Gateway', unitOfMeasure: '1 Hour', retailPrice: 0.045 }),
    item({ ...nat, skuName: 'Standard', meterName: 'Standard Data Processed', unitOfMeasure: '1 GB', retailPrice: 0.045 }),
  ];
}

/** The default catalogue: the deployment's default SKUs in westeurope (and a pricier northeurope). */
export function defaultCatalogue(): CatalogueItem[] {
  return [
    ...vmSize('Standard_D4s_v5', 'D4s v5', 'Dsv5', 0.23),
    ...vmSize('Standard_D2s_v5', 'D2s v5', 'Dsv5', 0.115),
    // A Managed DevOps Pool's default machine size (--agents-host managed-pool).
    ...vmSize('Standard_D2ads_v5', 'D2ads v5', 'Dadsv5', 0.103),
    ...vmSize('Standard_DS3_v2', 'DS3 v2', 'DSv2', 0.293),
    ...vmSize('Standard_D4s_v5', 'D4s v5', 'Dsv5', 0.25, 'northeurope'),
    ...vmSize('Standard_D2s_v5', 'D2s v5', 'Dsv5', 0.125, 'northeurope'),
    ...vmSize('Standard_DS3_v2', 'DS3 v2', 'DSv2', 0.32, 'northeurope'),
    ...disks('westeurope', 1),
    ...disks('northeurope', 1.1),
    ...registry('westeurope', 1),
    ...registry('northeurope', 1.1),
    ...network('westeurope', 1),
    ...network('northeurope', 1.1),
    ...logs('westeurope', 1),
    ...logs('northeurope', 1.1),
    ...globalNetworking(),
  ];
}
